"""Create or upgrade Turing's schema; idempotent, with the version recorded."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from turing_dagster.store import schema
from turing_dagster.store.engine import StoreError, sqlite_file, unusable
from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan


def _v1(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True)


def _v2(conn: sa.Connection) -> None:
    # wave claims; a database created at v2 already has them from create_all
    existing = {c["name"] for c in sa.inspect(conn).get_columns("waves")}
    for column in (schema.waves.c.claimed_by, schema.waves.c.claimed_until):
        if column.name not in existing:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE waves ADD COLUMN {column.name} {kind}"))


def _v3(conn: sa.Connection) -> None:
    # wave finished marker and the indexes the SQL-side progress queries use
    existing = {c["name"] for c in sa.inspect(conn).get_columns("waves")}
    column = schema.waves.c.finished_version
    if column.name not in existing:
        conn.execute(sa.text(f"ALTER TABLE waves ADD COLUMN {column.name} {column.type.compile(dialect=conn.dialect)}"))
    for table, name in ((schema.waves, "ix_waves_finished"), (schema.posting_state_checkpoints, "ix_checkpoints_version")):
        next(ix for ix in table.indexes if ix.name == name).create(conn, checkfirst=True)


def _add_columns(conn: sa.Connection, table: sa.Table, *columns: sa.Column) -> None:
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for column in columns:
        if column.name not in existing:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


def _v4(conn: sa.Connection) -> None:
    # workflow lifecycle: a retired marker, and each conversation_id's owning workflow. Spelled out
    # here rather than read from `schema`, which later versions may change.
    inspector = sa.inspect(conn)
    if "retired_at" not in {c["name"] for c in inspector.get_columns("workflows")}:
        kind = sa.DateTime(timezone=True).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE workflows ADD COLUMN retired_at {kind}"))
    if "workflow_id" not in {c["name"] for c in inspector.get_columns("conversations")}:
        conn.execute(sa.text(
            "ALTER TABLE conversations ADD COLUMN workflow_id INTEGER REFERENCES workflows (workflow_id)"
        ))
    # the owner of a row linked to several workflows (one reused another's ids) is the one that
    # synced last: the row's name, actor and code_version are that workflow's
    conn.execute(sa.text(
        "UPDATE conversations SET workflow_id = ("
        " SELECT wc.workflow_id FROM workflow_conversations wc JOIN workflows w ON w.workflow_id = wc.workflow_id"
        " WHERE wc.conversation_id = conversations.conversation_id"
        " ORDER BY w.updated_at DESC, wc.workflow_id LIMIT 1"
        ") WHERE workflow_id IS NULL"
    ))


def _v5(conn: sa.Connection) -> None:
    # request keys and stored answers, settled waves' stale counts, the runs' step records
    _add_columns(conn, schema.posting_state_checkpoints, schema.posting_state_checkpoints.c.request_key,
                 schema.posting_state_checkpoints.c.reused)
    _add_columns(conn, schema.waves, schema.waves.c.stale_postings)
    for table in (schema.llm_answers, schema.run_steps):
        table.create(conn, checkfirst=True)
    # the meaning of a wave's mark changed (settled, not finished): every wave is looked at once
    conn.execute(sa.update(schema.waves).values(finished_version=None))
    # code versions no longer hold names or retries: checkpoints of every stored definition carry the
    # version it has now, so an upgrade leaves results current (a definition that does not parse keeps its own)
    for (definition,) in conn.execute(sa.select(schema.workflows.c.definition)).all():
        workflow, errors = parse_workflow(definition)
        if workflow is not None and not errors:
            _restamp(conn, WorkflowPlan(workflow))


def _restamp(conn: sa.Connection, plan: WorkflowPlan) -> None:
    """Checkpoints stamped with schema 3's versions of this definition take the versions it has now."""
    legacy = plan.legacy_versions()
    for step in plan.steps:
        cid = step.conversation.conversation_id
        conn.execute(
            sa.update(schema.posting_state_checkpoints)
            .where(schema.posting_state_checkpoints.c.workflow_id == plan.workflow.workflow_id,
                   schema.posting_state_checkpoints.c.conversation_id == cid,
                   schema.posting_state_checkpoints.c.code_version == legacy[cid])
            .values(code_version=step.version)
        )


def _v6(conn: sa.Connection) -> None:
    # settled waves' held counts: the marks set before them lack one, so every wave is looked at once
    _add_columns(conn, schema.waves, schema.waves.c.held_postings)
    conn.execute(sa.update(schema.waves).values(finished_version=None))


# version -> step that brings a database at version-1 up to it; append, never edit.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6}


def _cannot_open(exc: sa.exc.DatabaseError) -> bool:
    """A database that cannot be opened, or a file that is not one (sqlite3's plain DatabaseError); an
    IntegrityError or ProgrammingError in a migration is a bug, and keeps its traceback."""
    return isinstance(exc, sa.exc.OperationalError) or type(exc) is sa.exc.DatabaseError


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table(schema.schema_version.name):
        return 0
    return conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0


def upgrade(engine: sa.Engine) -> tuple[int, int]:
    """Bring the schema to SCHEMA_VERSION; returns (version before, version after)."""
    path = sqlite_file(engine)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # only init creates the embedded store
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the SQLite database {path}: {exc.strerror} "
                             f"({exc.filename}); set TURING_STATE_DIR to a folder this user can write") from exc
    try:
        with engine.begin() as conn:
            before = current_version(conn)
            if before > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"database schema is version {before}, newer than this Turing ({schema.SCHEMA_VERSION})"
                )
            for version in range(before + 1, schema.SCHEMA_VERSION + 1):
                MIGRATIONS[version](conn)
                conn.execute(sa.insert(schema.schema_version).values(version=version))
            return before, schema.SCHEMA_VERSION
    except sa.exc.DatabaseError as exc:
        if not _cannot_open(exc):
            raise
        raise unusable(engine, exc) from exc


def require_schema(engine: sa.Engine) -> None:
    """Fail with one line when `turing init` has not been run."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        # connecting would create an empty file: a read must not leave one behind
        raise StoreError(f"no Turing database at {path}: run `turing init` first")
    try:
        with engine.connect() as conn:
            version = current_version(conn)
    except sa.exc.DatabaseError as exc:
        if not _cannot_open(exc):
            raise
        raise unusable(engine, exc) from exc
    if version < schema.SCHEMA_VERSION:
        raise StoreError("the Turing schema is missing or old: run `turing init` first")
