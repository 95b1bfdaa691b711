"""The checkpoint store: every step result for every posting, in `posting_state_checkpoints`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from turing_dagster.store.answers import StoredAnswer, insert_answers
from turing_dagster.store.engine import batched, first_line
from turing_dagster.store.marks import clear_marks
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.schema import postings, wave_postings


@dataclass(frozen=True)
class Checkpoint:
    """One step result for one posting; `next_conversation_id` is where the posting goes next."""

    posting_id: str
    conversation_id: int
    status: str
    output: str | None = None
    next_conversation_id: int | None = None
    code_version: str | None = None
    wave_key: str | None = None
    error: str | None = None
    attempts: int | None = None
    latency_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    checkpoint_id: int | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    request_key: str | None = None  # the request whose answer this is (a chat's last turn)
    reused: bool | None = None  # that answer came from llm_answers, not from the model

    def row(self, workflow_id: int) -> dict[str, Any]:
        snapshot = {
            **self.snapshot,
            "current_conversation_id": self.next_conversation_id,
            "last_conversation_id": self.conversation_id,
            "last_status": self.status,
        }
        return {
            "posting_id": self.posting_id,
            "workflow_id": workflow_id,
            "conversation_id": self.conversation_id,
            "status": self.status,
            "output": self.output,
            "state_snapshot": snapshot,
            "wave_key": self.wave_key,
            "code_version": self.code_version,
            "error": self.error,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "request_key": self.request_key,
            "reused": self.reused,
        }


def from_row(row: sa.Row) -> Checkpoint:
    snapshot = row.state_snapshot or {}
    return Checkpoint(
        posting_id=row.posting_id,
        conversation_id=row.conversation_id,
        status=row.status,
        output=row.output,
        next_conversation_id=snapshot.get("current_conversation_id"),
        code_version=row.code_version,
        wave_key=row.wave_key,
        error=row.error,
        attempts=row.attempts,
        latency_ms=row.latency_ms,
        tokens_in=row.tokens_in,
        tokens_out=row.tokens_out,
        checkpoint_id=row.checkpoint_id,
        snapshot=dict(snapshot),
        request_key=row.request_key,
        reused=row.reused,
    )


def _still_members(conn: sa.Connection, workflow_id: int, checkpoints: Sequence[Checkpoint]) -> set[str]:
    """Postings still in the wave their result was computed for, locked until this write commits.

    A posting reloaded with new content leaves its wave while a run may be working on it; the
    lock makes that reload wait for this write, then delete what it wrote.
    """
    kept: set[str] = set()
    by_wave: dict[str | None, list[str]] = defaultdict(list)
    for cp in checkpoints:
        by_wave[cp.wave_key].append(cp.posting_id)
    for wave, ids in by_wave.items():
        for part in batched(ids):
            kept.update(
                conn.execute(
                    sa.select(wave_postings.c.posting_id)
                    .where(
                        wave_postings.c.workflow_id == workflow_id,
                        wave_postings.c.wave_key == wave,
                        wave_postings.c.posting_id.in_(part),
                    )
                    .with_for_update()
                ).scalars()
            )
    return kept


@dataclass
class PostingRows:
    """What one posting's result writes: its checkpoint, its `save_to` write-backs, the answers it got from
    the model (stored by request key) and the later conversations whose rows its new result voids."""

    checkpoint: Checkpoint
    updates: list[tuple[str, Any]] = field(default_factory=list)  # (column, value)
    answers: list[StoredAnswer] = field(default_factory=list)
    voids: list[int] = field(default_factory=list)


# a write that fails for one of these is about some row's content, not about the connection or the schema
ROW_ERRORS = (sa.exc.DataError, sa.exc.IntegrityError, UnicodeError, ValueError)


def row_error(exc: BaseException) -> str | None:
    """Why a write failed when the reason lies in the rows written (a character the database cannot hold,
    a constraint); None for anything else (a lost connection, a missing table)."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(exc, sa.exc.StatementError) and not isinstance(exc, sa.exc.DBAPIError):
        cause = exc.orig  # raised before the driver sent anything: an encoding error, say
    if isinstance(exc, ROW_ERRORS) or isinstance(cause, ROW_ERRORS):
        return first_line(cause) if isinstance(cause, BaseException) else first_line(exc)
    return None


def write_rows(
    engine: sa.Engine, workflow_id: int, rows: Sequence[PostingRows], members_only: bool = False
) -> tuple[int, list[tuple[PostingRows, str]]]:
    """Write postings' results in one transaction; a failure tied to some row is narrowed to that row by
    halving, so the others commit. Returns (checkpoints written, [(row not written, why)])."""
    if not rows:
        return 0, []
    try:
        return _write_rows(engine, workflow_id, rows, members_only), []
    except Exception as exc:  # noqa: BLE001 - narrowed below, re-raised when not about a row
        reason = row_error(exc)
        if reason is None:
            raise
    if len(rows) == 1:
        return 0, [(rows[0], reason)]
    middle = len(rows) // 2
    written, bad = write_rows(engine, workflow_id, rows[:middle], members_only)
    more, worse = write_rows(engine, workflow_id, rows[middle:], members_only)
    return written + more, bad + worse


def _write_rows(engine: sa.Engine, workflow_id: int, rows: Sequence[PostingRows], members_only: bool) -> int:
    with engine.begin() as conn:
        if members_only:
            kept = _still_members(conn, workflow_id, [r.checkpoint for r in rows])
            rows = [r for r in rows if r.checkpoint.posting_id in kept]
            if not rows:
                return 0
        _write(conn, workflow_id, rows)
    return len(rows)


def write_chunk(
    engine: sa.Engine,
    workflow_id: int,
    checkpoints: Sequence[Checkpoint],
    posting_updates: Iterable[tuple[str, str, Any]] = (),
    members_only: bool = False,
) -> int:
    """Write step results and their `save_to` columns in one transaction (see write_rows).

    Re-writing a (workflow, posting, conversation) replaces its row, so a rerun never duplicates;
    the new row gets a newer checkpoint_id, which keeps "latest checkpoint per posting" meaningful.
    With `members_only`, results for postings that left their wave meanwhile are dropped.
    Returns the number of checkpoints written.
    """
    updates: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for posting_id, column, value in posting_updates:
        updates[posting_id].append((column, value))
    rows = [PostingRows(cp, updates.pop(cp.posting_id, [])) for cp in checkpoints]
    return _write_rows(engine, workflow_id, rows, members_only) if rows else 0


def _write(conn: sa.Connection, workflow_id: int, rows: Sequence[PostingRows]) -> None:
    checkpoints = [r.checkpoint for r in rows]
    by_conversation: dict[int, list[str]] = defaultdict(list)
    for cp in checkpoints:
        by_conversation[cp.conversation_id].append(cp.posting_id)
    for conversation_id, posting_ids in by_conversation.items():
        for part in batched(posting_ids):
            conn.execute(
                sa.delete(psc).where(
                    psc.c.workflow_id == workflow_id,
                    psc.c.conversation_id == conversation_id,
                    psc.c.posting_id.in_(part),
                )
            )
    conn.execute(sa.insert(psc), [cp.row(workflow_id) for cp in checkpoints])
    insert_answers(conn, [a for r in rows for a in r.answers])
    voided: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for r in rows:
        if r.voids:
            voided[tuple(r.voids)].append(r.checkpoint.posting_id)
    for conversation_ids, posting_ids in voided.items():
        # a result that changed voids what later steps made from the old one: stale, re-processed on request
        for part in batched(posting_ids):
            conn.execute(
                sa.update(psc)
                .where(psc.c.workflow_id == workflow_id, psc.c.posting_id.in_(part),
                       psc.c.conversation_id.in_(list(conversation_ids)))
                .values(code_version=None)
            )
    clear_marks(conn, workflow_id, {cp.wave_key for cp in checkpoints if cp.wave_key})
    updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        for column, value in r.updates:
            updates[column].append({"pid": r.checkpoint.posting_id, "value": value})
    for column, params in updates.items():
        conn.execute(
            sa.update(postings)
            .where(postings.c.posting_id == sa.bindparam("pid"))
            .values({column: sa.bindparam("value"), "updated_at": sa.func.now()}),
            params,
        )


def _rows_for(engine: sa.Engine, columns: Sequence[Any], workflow_id: int, posting_ids: Sequence[str],
              conversation_ids: list[int] | None, *where: sa.ColumnElement[bool]) -> Iterator[sa.Row]:
    """`columns` of the rows of these postings (and conversations), a batch of postings per query."""
    with engine.connect() as conn:
        for part in batched(list(posting_ids)):
            query = sa.select(*columns).where(psc.c.workflow_id == workflow_id, psc.c.posting_id.in_(part), *where)
            if conversation_ids is not None:
                query = query.where(psc.c.conversation_id.in_(conversation_ids))
            yield from conn.execute(query)


def outputs_for(
    engine: sa.Engine,
    workflow_id: int,
    posting_ids: Sequence[str],
    conversation_ids: Iterable[int],
) -> dict[tuple[str, int], str | None]:
    """The output of each completed (posting, conversation) among the given ones: what prompts and actors
    are rendered from, without the rows' snapshots (most of what a full row costs to read)."""
    wanted = list(conversation_ids)
    if not wanted:
        return {}
    columns = (psc.c.posting_id, psc.c.conversation_id, psc.c.output)
    rows = _rows_for(engine, columns, workflow_id, posting_ids, wanted, psc.c.status == "completed")
    return {(pid, cid): output for pid, cid, output in rows}


def checkpoints_for(
    engine: sa.Engine,
    workflow_id: int,
    posting_ids: Sequence[str],
    conversation_ids: Iterable[int] | None = None,
) -> dict[tuple[str, int], Checkpoint]:
    """The checkpoint of each (posting, conversation) among the given ones."""
    wanted = list(conversation_ids) if conversation_ids is not None else None
    rows = _rows_for(engine, (psc,), workflow_id, posting_ids, wanted)
    return {(row.posting_id, row.conversation_id): from_row(row) for row in rows}
