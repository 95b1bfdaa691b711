"""The checkpoint store: every step result for every posting, in `posting_state_checkpoints`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from turing_dagster.store.engine import get_engine
from turing_dagster.store.schema import conversations, postings, wave_postings, waves
from turing_dagster.store.schema import posting_state_checkpoints as psc

# Keeps IN lists under SQLite's bound-parameter limit and PostgreSQL's planner sweet spot.
_BATCH = 500


def batched(items: Sequence, size: int = _BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        }


def _from_row(row: sa.Row) -> Checkpoint:
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


def write_chunk(
    engine: sa.Engine,
    workflow_id: int,
    checkpoints: Sequence[Checkpoint],
    posting_updates: Iterable[tuple[str, str, Any]] = (),
    members_only: bool = False,
) -> int:
    """Write a chunk of step results and their `save_to` columns in one transaction.

    Re-writing a (workflow, posting, conversation) replaces its row, so a rerun never duplicates;
    the new row gets a newer checkpoint_id, which keeps "latest checkpoint per posting" meaningful.
    With `members_only`, results for postings that left their wave meanwhile are dropped.
    Returns the number of checkpoints written.
    """
    if not checkpoints:
        return 0
    with engine.begin() as conn:
        if members_only:
            kept = _still_members(conn, workflow_id, checkpoints)
            checkpoints = [cp for cp in checkpoints if cp.posting_id in kept]
            posting_updates = [u for u in posting_updates if u[0] in kept]
            if not checkpoints:
                return 0
        _write(conn, workflow_id, checkpoints, posting_updates)
    return len(checkpoints)


def _write(
    conn: sa.Connection,
    workflow_id: int,
    checkpoints: Sequence[Checkpoint],
    posting_updates: Iterable[tuple[str, str, Any]],
) -> None:
    by_conversation: dict[int, list[str]] = defaultdict(list)
    for cp in checkpoints:
        by_conversation[cp.conversation_id].append(cp.posting_id)
    updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for posting_id, column, value in posting_updates:
        updates[column].append({"pid": posting_id, "value": value})
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
    reopened = sorted({cp.wave_key for cp in checkpoints if cp.status == "failed" and cp.wave_key})
    if reopened:  # a new failure may be retryable: the wave is to be looked at again (see store/current.py)
        conn.execute(
            sa.update(waves)
            .where(waves.c.workflow_id == workflow_id, waves.c.wave_key.in_(reopened))
            .values(finished_version=None)
        )
    for column, params in updates.items():
        conn.execute(
            sa.update(postings)
            .where(postings.c.posting_id == sa.bindparam("pid"))
            .values({column: sa.bindparam("value"), "updated_at": sa.func.now()}),
            params,
        )


def checkpoints_for(
    engine: sa.Engine,
    workflow_id: int,
    posting_ids: Sequence[str],
    conversation_ids: Iterable[int] | None = None,
) -> dict[tuple[str, int], Checkpoint]:
    """The checkpoint of each (posting, conversation) among the given ones."""
    wanted = list(conversation_ids) if conversation_ids is not None else None
    found: dict[tuple[str, int], Checkpoint] = {}
    with engine.connect() as conn:
        for part in batched(list(posting_ids)):
            query = sa.select(psc).where(psc.c.workflow_id == workflow_id, psc.c.posting_id.in_(part))
            if wanted is not None:
                query = query.where(psc.c.conversation_id.in_(wanted))
            for row in conn.execute(query):
                found[(row.posting_id, row.conversation_id)] = _from_row(row)
    return found


def trail(engine: sa.Engine, workflow_id: int, posting_id: str) -> list[tuple[str, Checkpoint]]:
    """A posting's checkpoints in the order they were written, with conversation names."""
    query = (
        sa.select(psc, conversations.c.canonical_name)
        .join(conversations, conversations.c.conversation_id == psc.c.conversation_id, isouter=True)
        .where(psc.c.workflow_id == workflow_id, psc.c.posting_id == posting_id)
        .order_by(psc.c.checkpoint_id)
    )
    with engine.connect() as conn:
        return [(row.canonical_name, _from_row(row)) for row in conn.execute(query)]


def status_counts(engine: sa.Engine, workflow_id: int) -> dict[tuple[int, str | None], dict[str, int]]:
    """{(conversation_id, code_version): {status: count}} for a workflow."""
    query = (
        sa.select(psc.c.conversation_id, psc.c.code_version, psc.c.status, sa.func.count())
        .where(psc.c.workflow_id == workflow_id)
        .group_by(psc.c.conversation_id, psc.c.code_version, psc.c.status)
    )
    counts: dict[tuple[int, str | None], dict[str, int]] = defaultdict(dict)
    with engine.connect() as conn:
        for conversation_id, version, status, n in conn.execute(query):
            counts[(conversation_id, version)][status] = n
    return dict(counts)


def get_conversation_output(
    posting_id: str, conversation_id: int, workflow_id: int | None = None, engine: sa.Engine | None = None
) -> str | None:
    """A posting's completed output of one conversation (for scripts, as the old system had)."""
    query = sa.select(psc.c.output).where(
        psc.c.posting_id == str(posting_id),
        psc.c.conversation_id == int(conversation_id),
        psc.c.status == "completed",
    )
    if workflow_id is not None:
        query = query.where(psc.c.workflow_id == workflow_id)
    with (engine or get_engine()).connect() as conn:
        return conn.execute(query.order_by(psc.c.checkpoint_id.desc()).limit(1)).scalar()


def get_conversation_outputs(
    posting_id: str, workflow_id: int, engine: sa.Engine | None = None
) -> dict[str, str | None]:
    """All completed outputs of a posting in a workflow, by conversation canonical name."""
    query = (
        sa.select(conversations.c.canonical_name, psc.c.output)
        .join(conversations, conversations.c.conversation_id == psc.c.conversation_id)
        .where(
            psc.c.posting_id == str(posting_id),
            psc.c.workflow_id == workflow_id,
            psc.c.status == "completed",
        )
        .order_by(psc.c.checkpoint_id)
    )
    with (engine or get_engine()).connect() as conn:
        return {name: output for name, output in conn.execute(query)}
