"""Settled waves: a mark on each wave a plain run has nothing to do in under the current definitions.

A wave is settled under a plan version (the last step's cumulative version, which changes with any step's
definition) with how many of its members were stale and how many a failure held; any checkpoint written
into it clears the mark. So a run reads only the waves written into since they were last looked at, and
counts the rest of the history from the marks: its cost follows new work, not history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from turing_dagster.store.engine import batched
from turing_dagster.store.schema import waves


def plan_version(steps: Sequence[tuple[int, str, int]]) -> str:
    """The last step's cumulative version: it changes with any step's definition."""
    return steps[-1][1] if steps else ""


def waves_to_read(conn: sa.Connection, workflow_id: int, version: str, stale: bool, failed: bool) -> list[str]:
    """The waves whose marks do not already say a run has nothing there: a wave settled under `version`
    has no plain work, and its counts say whether a `stale` or `failed` run has."""
    nothing = sa.and_(
        waves.c.finished_version == version,
        *([sa.func.coalesce(waves.c.stale_postings, -1) == 0] if stale else []),
        *([sa.func.coalesce(waves.c.held_postings, -1) == 0] if failed else []),
    )
    query = (
        sa.select(waves.c.wave_key)
        .where(waves.c.workflow_id == workflow_id, sa.or_(waves.c.finished_version.is_(None), sa.not_(nothing)))
        .order_by(waves.c.wave_key)
    )
    return list(conn.execute(query).scalars())


def mark_settled(engine: sa.Engine, workflow_id: int, counts: Mapping[str, tuple[int, int]], version: str) -> None:
    """Settle waves under `version` with their (stale, held) members (a write of its own, after the reads)."""
    with engine.begin() as conn:
        for key, (stale, held) in counts.items():
            conn.execute(
                sa.update(waves)
                .where(waves.c.workflow_id == workflow_id, waves.c.wave_key == key)
                .values(finished_version=version, stale_postings=stale, held_postings=held)
            )


def settled_counts(engine: sa.Engine, workflow_id: int, version: str) -> tuple[int, int]:
    """(stale, held) postings over the waves settled under `version`, without reading a checkpoint (a
    settled wave has no retryable failure: that is plain work)."""
    with engine.connect() as conn:
        stale, held = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(waves.c.stale_postings), 0),
                      sa.func.coalesce(sa.func.sum(waves.c.held_postings), 0))
            .where(waves.c.workflow_id == workflow_id, waves.c.finished_version == version)
        ).one()
    return int(stale or 0), int(held or 0)


def clear_marks(conn: sa.Connection, workflow_id: int, wave_keys: Iterable[str]) -> None:
    """Checkpoints were written into these waves: look at them again."""
    keys = sorted(set(wave_keys))
    for part in batched(keys):
        conn.execute(
            sa.update(waves)
            .where(waves.c.workflow_id == workflow_id, waves.c.wave_key.in_(list(part)), waves.c.finished_version.is_not(None))
            .values(finished_version=None)
        )
