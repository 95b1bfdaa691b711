"""Where admitted postings stand under the current definitions, computed in SQL over the checkpoints.

A checkpoint is current when its code_version is its plan step's cumulative version. Per posting,
the *front* is the plan index of its last current completed/skipped row (-1: none) and *held* says
a current failed row lies beyond it. `turing run`, `turing status` and `turing monitor` read these
aggregates instead of rebuilding every posting's state in Python, so their cost follows the waves
they look at, not the whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.schema import wave_postings, waves

StepVersions = Sequence[tuple[int, str]]  # (conversation_id, cumulative version) in plan order


def _position(table: sa.Table, steps: StepVersions) -> sa.ColumnElement:
    """The plan index of a current row; NULL for a stale row or a conversation the plan lacks."""
    whens = [((table.c.conversation_id == cid) & (table.c.code_version == ver), i) for i, (cid, ver) in enumerate(steps)]
    return sa.case(*whens, else_=sa.null())


def _standing(workflow_id: int, steps: StepVersions, unfinished_under: str | None = None) -> sa.Subquery:
    """One row per member posting: wave_key, posting_id, front (NULL = none), failed.

    `failed` = 2 x plan index of the last current failed row + 1 when that row is retryable, so one
    MAX finds both the furthest failure and whether the server was to blame for it.
    `unfinished_under`: only waves not marked finished under this plan version.
    """
    pos = _position(psc, steps)
    retryable = sa.case((psc.c.state_snapshot["retryable"].as_boolean(), 1), else_=0)
    front = sa.func.max(sa.case((psc.c.status != "failed", pos), else_=sa.null()))
    failed = sa.func.max(sa.case((psc.c.status == "failed", pos * 2 + retryable), else_=sa.null()))
    joined = wave_postings.outerjoin(
        psc, sa.and_(psc.c.workflow_id == wave_postings.c.workflow_id, psc.c.posting_id == wave_postings.c.posting_id)
    )
    query = sa.select(
        wave_postings.c.wave_key, wave_postings.c.posting_id, front.label("front"), failed.label("failed")
    ).where(wave_postings.c.workflow_id == workflow_id)
    if unfinished_under is not None:
        joined = joined.join(
            waves, sa.and_(waves.c.workflow_id == wave_postings.c.workflow_id, waves.c.wave_key == wave_postings.c.wave_key)
        )
        query = query.where(
            sa.or_(waves.c.finished_version.is_(None), waves.c.finished_version != unfinished_under)
        )
    return query.select_from(joined).group_by(wave_postings.c.wave_key, wave_postings.c.posting_id).subquery()


def _held(s: sa.Subquery) -> sa.ColumnElement:
    # a failure beyond the front: failed // 2 > front  <=>  failed >= 2 * (front + 1)
    return sa.and_(s.c.failed.is_not(None), s.c.failed >= 2 * (sa.func.coalesce(s.c.front, -1) + 1))


def plan_version(steps: StepVersions) -> str:
    """The last step's cumulative version: it changes with any step's definition."""
    return steps[-1][1] if steps else ""


def unfinished_waves(engine: sa.Engine, workflow_id: int, steps: StepVersions, retry_failed: bool = False) -> list[str]:
    """Waves with a member that has not reached the plan's last step under the current versions.

    A member held by a failure keeps its wave open only when the failure is retryable, or with
    `retry_failed`. Only waves not yet marked finished under this plan version are read; those
    found finished are marked, so the next call skips them (an edited definition changes the
    version and so reopens every wave for one look).
    """
    if not steps:
        return []
    version = plan_version(steps)
    s = _standing(workflow_id, steps, None if retry_failed else version)
    last = len(steps) - 1
    open_ = sa.and_(
        sa.func.coalesce(s.c.front, -1) < last,
        sa.true() if retry_failed else sa.or_(sa.not_(_held(s)), s.c.failed % 2 == 1),
    )
    looked = sa.select(s.c.wave_key).distinct()
    with engine.begin() as conn:
        seen = set(conn.execute(looked).scalars())
        unfinished = set(conn.execute(sa.select(s.c.wave_key).where(open_).distinct()).scalars())
        mark_finished(conn, workflow_id, sorted(seen - unfinished), version)
    return sorted(unfinished)


def held_counts(engine: sa.Engine, workflow_id: int, steps: StepVersions) -> tuple[int, int]:
    """(postings held by a failed step, those of them whose failure is retryable), in one query."""
    if not steps:
        return 0, 0
    s = _standing(workflow_id, steps)
    retryable = sa.func.coalesce(sa.func.sum(sa.case((s.c.failed % 2 == 1, 1), else_=0)), 0)
    with engine.connect() as conn:
        held, retried = conn.execute(sa.select(sa.func.count(), retryable).where(_held(s))).one()
    return int(held), int(retried)


def mark_finished(conn: sa.Connection, workflow_id: int, keys: Sequence[str], version: str) -> None:
    for start in range(0, len(keys), 500):
        conn.execute(
            sa.update(waves)
            .where(waves.c.workflow_id == workflow_id, waves.c.wave_key.in_(list(keys[start : start + 500])))
            .values(finished_version=version)
        )


@dataclass(frozen=True)
class Standing:
    """How many admitted postings stand where: per next conversation, held by a failure, at the end."""

    admitted: int
    not_started: int  # no current row at all: waiting for the first step
    held: int
    ended: int  # the route ended (next is None)
    waiting: dict[int, int]  # next conversation id -> postings waiting there


def standing(engine: sa.Engine, workflow_id: int, steps: StepVersions) -> Standing:
    """Counts of where every admitted posting of the workflow stands now, in one query."""
    s = _standing(workflow_id, steps)
    front_row = psc.alias("front_row")
    conv_at_front = sa.case(*[(s.c.front == i, cid) for i, (cid, _) in enumerate(steps)], else_=sa.null())
    held = sa.case((_held(s), 1), else_=0).label("held")
    started = sa.case((s.c.front.is_(None), 0), else_=1).label("started")
    nxt = front_row.c.state_snapshot["current_conversation_id"].as_integer().label("next")
    query = (
        sa.select(held, started, nxt, sa.func.count())
        .select_from(
            s.outerjoin(
                front_row,
                sa.and_(
                    front_row.c.workflow_id == workflow_id,
                    front_row.c.posting_id == s.c.posting_id,
                    front_row.c.conversation_id == conv_at_front,
                ),
            )
        )
        .group_by(held, started, nxt)
    )
    admitted = not_started = n_held = ended = 0
    waiting: dict[int, int] = {}
    with engine.connect() as conn:
        for is_held, is_started, next_id, n in conn.execute(query) if steps else ():
            admitted += n
            if is_held:
                n_held += n
            elif not is_started:
                not_started += n
            elif next_id is None:
                ended += n
            else:
                waiting[next_id] = waiting.get(next_id, 0) + n
    if not steps:
        with engine.connect() as conn:
            admitted = conn.execute(
                sa.select(sa.func.count()).select_from(wave_postings).where(wave_postings.c.workflow_id == workflow_id)
            ).scalar_one()
    return Standing(admitted, not_started, n_held, ended, waiting)
