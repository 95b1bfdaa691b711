"""Reads of `posting_state_checkpoints` for people and scripts: a posting's trail, counts per version."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from turing_dagster.store.checkpoints import Checkpoint, from_row
from turing_dagster.store.schema import conversations
from turing_dagster.store.schema import posting_state_checkpoints as psc


def trail(engine: sa.Engine, workflow_id: int, posting_id: str) -> list[tuple[str, Checkpoint]]:
    """A posting's checkpoints in the order they were written, with conversation names."""
    query = (
        sa.select(psc, conversations.c.canonical_name)
        .join(conversations, conversations.c.conversation_id == psc.c.conversation_id, isouter=True)
        .where(psc.c.workflow_id == workflow_id, psc.c.posting_id == posting_id)
        .order_by(psc.c.checkpoint_id)
    )
    with engine.connect() as conn:
        return [(row.canonical_name, from_row(row)) for row in conn.execute(query)]


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


def reused_counts(engine: sa.Engine, workflow_id: int) -> dict[tuple[int, str | None], int]:
    """{(conversation_id, code_version): completed rows whose answer was reused} for a workflow."""
    query = (
        sa.select(psc.c.conversation_id, psc.c.code_version, sa.func.count())
        .where(psc.c.workflow_id == workflow_id, psc.c.status == "completed", psc.c.reused.is_(True))
        .group_by(psc.c.conversation_id, psc.c.code_version)
    )
    with engine.connect() as conn:
        return {(c, v): n for c, v, n in conn.execute(query)}
