"""The `workflows` table and what hangs off it: definitions mirrored into `workflows`, `conversations`
and `workflow_conversations`, each conversation_id owned by one workflow; retired workflows; the
definitions as last synced, which keep a workflow's history readable once its file is gone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from turing_dagster.store.schema import conversations, posting_state_checkpoints, workflow_conversations, workflows
from turing_dagster.workflows.loader import WorkflowError, WorkflowValidationError
from turing_dagster.workflows.versions import code_version

if TYPE_CHECKING:
    from turing_dagster.workflows.spec import Workflow

# a retired workflow is renamed NAME~WORKFLOW_ID: no definition can take that name back, since
# names match [a-z][a-z0-9_]*
RETIRED_MARK = "~"
_MAX_ID = 2**31 - 1  # workflow_id is an INTEGER: a longer number names no workflow (and would fail on PostgreSQL)


@dataclass(frozen=True)
class StoredWorkflow:
    """A row of `workflows`: what the database knows of a workflow, whatever the files say now."""

    workflow_id: int
    name: str  # as stored: NAME~WORKFLOW_ID once retired
    source_file: str | None
    definition: dict[str, Any] | None
    retired_at: datetime | None

    @property
    def defined_name(self) -> str:
        """The name its definition gave it."""
        return self.name.partition(RETIRED_MARK)[0]

    @property
    def retired_utc(self) -> datetime | None:
        """When it was retired, in UTC (SQLite hands back naive UTC, PostgreSQL the session's zone)."""
        at = self.retired_at
        return None if at is None else (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)

    @property
    def retired_on(self) -> str:
        return f"{self.retired_utc:%Y-%m-%d %H:%M} UTC" if self.retired_utc else ""

    @property
    def label(self) -> str:
        return f"{self.workflow_id} ({self.defined_name}{', retired' if self.retired_at else ''})"


_COLUMNS = (workflows.c.workflow_id, workflows.c.name, workflows.c.source_file, workflows.c.definition,
            workflows.c.retired_at)


def _upsert(engine: sa.Engine, table: sa.Table, rows: list[dict], keys: list[str],
            where: sa.ColumnElement[bool] | None = None) -> sa.Executable:
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    if "updated_at" in table.c:
        updates["updated_at"] = sa.func.now()
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates, where=where)


def renumbered(name: str, stored_id: int, file_id: int) -> str:
    """Why a file that is a stored workflow with its workflow_id changed does not run, and the ways out."""
    return (f"{file_id} is not the workflow_id of {name!r} in the database ({stored_id}, with its history and these "
            f"conversation ids): put back `workflow_id: {stored_id}` to go on with that history, or start afresh with "
            f"`turing workflows retire {stored_id}` and conversation ids of its own")


def _refusals(conn: sa.Connection, wf: Workflow) -> list[WorkflowError]:
    """Why the database will not take this definition: one line per problem, each naming the way out."""
    file, errors = wf.source_file, []
    holder = conn.execute(
        sa.select(workflows.c.workflow_id).where(workflows.c.name == wf.name, workflows.c.workflow_id != wf.workflow_id)
    ).scalar()
    if holder is not None:
        errors.append(WorkflowError(file, None, "name", (
            f"{wf.name!r} already belongs to workflow_id {holder} in the database (its history stays there); "
            f"`turing workflows retire {holder}` frees the name")))
    itself = conn.execute(sa.select(*_COLUMNS).where(workflows.c.workflow_id == wf.workflow_id)).first()
    if itself is not None and itself.retired_at is not None:
        errors.append(WorkflowError(file, None, "workflow_id", (
            f"{wf.workflow_id} was retired in the database (its history is kept as {itself.name!r}); "
            "give this workflow a workflow_id of its own")))
    owners = {
        row.conversation_id: StoredWorkflow(row.workflow_id, row.name, row.source_file, None, row.retired_at)
        for row in conn.execute(
            sa.select(conversations.c.conversation_id, *_COLUMNS)
            .join(workflows, workflows.c.workflow_id == conversations.c.workflow_id)
            .where(conversations.c.conversation_id.in_([c.conversation_id for c in wf.conversations]),
                   conversations.c.workflow_id != wf.workflow_id)
        )
    }
    foreign = [c for c in wf.conversations if c.conversation_id in owners]
    if holder is not None and foreign and {owners[c.conversation_id].workflow_id for c in foreign} == {holder}:
        # the file is that workflow with its workflow_id changed (by hand, or a copy): one problem, one line
        return [WorkflowError(file, None, "workflow_id", renumbered(wf.name, holder, wf.workflow_id))]
    if foreign:
        first, more = foreign[0], foreign[1:]
        also = f" (so do {', '.join(f'{c.name!r} {c.conversation_id}' for c in more)})" if more else ""
        errors.append(WorkflowError(file, first.name, "conversation_id", (
            f"{first.conversation_id} belongs to workflow {owners[first.conversation_id].label} in the database; "
            f"give this conversation an id of its own{also}")))
    return errors


def _write(engine: sa.Engine, conn: sa.Connection, wf: Workflow) -> None:
    wf_row = {
        "workflow_id": wf.workflow_id,
        "name": wf.name,
        "description": wf.description,
        "source_file": wf.source_file,
        "definition": wf.model_dump(mode="json", by_alias=True, exclude={"source_file"}),
    }
    conn.execute(_upsert(engine, workflows, [wf_row], ["workflow_id"]), [wf_row])
    conv_rows = [
        {
            "conversation_id": c.conversation_id,
            "workflow_id": wf.workflow_id,
            "canonical_name": c.name,
            "actor": c.actor,
            "conversation_type": "python" if c.is_python else "llm",
            "code_version": code_version(wf, c.name),
        }
        for c in wf.conversations
    ]
    # a row another workflow claimed since _refusals looked (a concurrent sync) is left to its owner
    mine = sa.or_(conversations.c.workflow_id.is_(None), conversations.c.workflow_id == wf.workflow_id)
    conn.execute(_upsert(engine, conversations, conv_rows, ["conversation_id"], where=mine), conv_rows)
    link_rows = [
        {"workflow_id": wf.workflow_id, "conversation_id": c.conversation_id, "execution_order": c.execution_order}
        for c in wf.conversations
    ]
    conn.execute(
        sa.delete(workflow_conversations).where(
            workflow_conversations.c.workflow_id == wf.workflow_id,
            workflow_conversations.c.conversation_id.not_in([c.conversation_id for c in wf.conversations]),
        )
    )
    conn.execute(_upsert(engine, workflow_conversations, link_rows, ["workflow_id", "conversation_id"]), link_rows)


def sync_workflows(engine: sa.Engine, definitions: Sequence[Workflow]) -> None:
    """Upsert every definition the database can take, in one transaction; re-syncing an edited file
    updates, never duplicates. Then raise WorkflowValidationError for the others (a name or a
    conversation_id held by another workflow, a retired workflow_id): one refusal must not keep
    the other workflows from syncing."""
    refused: list[WorkflowError] = []
    with engine.begin() as conn:
        for wf in definitions:
            errors = _refusals(conn, wf)
            if errors:
                refused += errors
            else:
                _write(engine, conn, wf)
    if refused:
        raise WorkflowValidationError(refused)


def _row(row: sa.Row) -> StoredWorkflow:
    return StoredWorkflow(row.workflow_id, row.name, row.source_file, row.definition, row.retired_at)


def stored_workflows(engine: sa.Engine) -> list[StoredWorkflow]:
    """Every workflow the database knows, by workflow_id."""
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(sa.select(*_COLUMNS).order_by(workflows.c.workflow_id))]


def find_stored(engine: sa.Engine, name_or_id: str) -> StoredWorkflow | None:
    """The workflow stored under this workflow_id or this name (NAME~WORKFLOW_ID for a retired one)."""
    if name_or_id.isdigit():
        if int(name_or_id) > _MAX_ID:
            return None
        where = workflows.c.workflow_id == int(name_or_id)
    else:
        where = workflows.c.name == name_or_id
    with engine.connect() as conn:
        row = conn.execute(sa.select(*_COLUMNS).where(where)).first()
    return _row(row) if row is not None else None


def retired_under(engine: sa.Engine, name: str) -> list[StoredWorkflow]:
    """The retired workflows that were once named `name`."""
    query = sa.select(*_COLUMNS).where(workflows.c.name.startswith(name + RETIRED_MARK, autoescape=True))
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query.order_by(workflows.c.workflow_id))]


def checkpoint_counts(engine: sa.Engine) -> dict[int, int]:
    """{workflow_id: checkpoints} over every workflow with any."""
    psc = posting_state_checkpoints
    with engine.connect() as conn:
        rows = conn.execute(sa.select(psc.c.workflow_id, sa.func.count()).group_by(psc.c.workflow_id))
        return {workflow_id: n for workflow_id, n in rows}


def retire_workflow(engine: sa.Engine, workflow_id: int) -> StoredWorkflow | None:
    """Mark the workflow retired and free its name (NAME~WORKFLOW_ID); its rows stay as they are.
    None when it was retired already (or is unknown)."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(*_COLUMNS).where(workflows.c.workflow_id == workflow_id, workflows.c.retired_at.is_(None))
            .with_for_update()
        ).first()
        if row is None:
            return None
        conn.execute(
            sa.update(workflows).where(workflows.c.workflow_id == workflow_id)
            .values(name=f"{row.name}{RETIRED_MARK}{workflow_id}", retired_at=sa.func.now(), updated_at=sa.func.now())
        )
        row = conn.execute(sa.select(*_COLUMNS).where(workflows.c.workflow_id == workflow_id)).one()
    return _row(row)
