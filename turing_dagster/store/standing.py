"""Where each admitted posting stands under the current definitions: the one rule, in SQL.

A checkpoint is current when its code_version is its plan step's cumulative version; a `skipped` row also
when it carries the cumulative version of an earlier step of the plan (the step whose route passed this
one: the skip depends on that step and those before it, not on the skipped step's own definition, so an
edit of a later step leaves the postings whose route ended before it alone). A posting's
*prefix* is the run of current completed/skipped rows from the plan's first step on; the first step
after it (`at`) says what the posting is:

- DONE: the prefix covers every step.
- PENDING: `at` has no row and no step of a later execution order has one: new work (a plain run and
  the sensor do it). Conversations sharing an execution order are independent, so a sibling may have
  written its row before the one at `at`.
- HELD: `at` holds a failure under the current definitions (or a retryable one under an earlier
  definition): `retryable` ones are retried by a plain run, the others wait for `--retry-failed`.
- STALE: `at` holds a result made under an earlier definition (or a row is missing below rows that
  exist: the plan changed): re-processed only on request (`--stale`, an explicit materialization);
  `failed` marks a non-retryable failure under an earlier definition (`--retry-failed` takes it too).

`turing run`, the steps, `turing status` and `turing plan` all read this, so what a run considers done
is what status shows, after any sequence of edits, explicit runs and reverts. On PostgreSQL each reader
first has the tables analyzed if they outgrew their statistics (store/analyze.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.store.analyze import analyze_if_grown
from turing_dagster.store.engine import batched
from turing_dagster.store.marks import plan_version, waves_to_read
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.schema import wave_postings

_WAVES_PER_QUERY = 50  # waves of a few thousand postings: one standing query stays bounded

StepVersions = Sequence[tuple[int, str, int]]  # (conversation_id, cumulative version, execution order), plan order

# the kind of the first row that breaks the prefix, encoded with its plan index as index * 8 + kind, so
# one MIN finds both the first break and what it is
_MISSING, _FAILED_RETRYABLE, _FAILED, _OLD_FAILED_RETRYABLE, _OLD_FAILED, _OLD = range(6)


class State(enum.IntEnum):
    DONE = 0
    PENDING = 1
    HELD = 2
    STALE = 3


@dataclass(frozen=True)
class Scope:
    """What a run processes besides new work and retryable failures."""

    stale: bool = False  # results made under an earlier definition
    failed: bool = False  # failures about the posting (invalid output, an actor's exception, ...)

    @classmethod
    def explicit(cls) -> Scope:
        """A materialization asked for by hand (UI, backfill, `dagster job execute`): everything."""
        return cls(stale=True, failed=True)

    def takes(self, state: State, retryable: bool, failed: bool) -> bool:
        if state is State.PENDING or (state is State.HELD and retryable):
            return True
        if state is State.HELD:
            return self.failed
        if state is State.STALE:
            return self.stale or (failed and self.failed)
        return False

    @property
    def tag(self) -> str:
        return ",".join(["new", *(["stale"] if self.stale else []), *(["failed"] if self.failed else [])])

    @classmethod
    def from_tag(cls, value: str | None) -> Scope:
        """The run tag's scope; no tag: an explicit materialization."""
        if value is None:
            return cls.explicit()
        parts = {p.strip() for p in value.split(",")}
        return cls(stale="stale" in parts, failed="failed" in parts)


@dataclass(frozen=True)
class Standing:
    posting_id: str
    wave_key: str
    state: State
    at: int  # plan index of the first step not done (len(steps) when DONE)
    retryable: bool = False
    failed: bool = False  # STALE: a failure under an earlier definition
    next_id: int | None = None  # where the prefix's last completed row sends it (None: END, or no prefix)
    routed: int | None = None  # the plan index of that row: the step whose route a skip of a later one follows


def _steps(steps: StepVersions) -> sa.Subquery:
    rows = [
        sa.select(sa.literal(i).label("idx"), sa.literal(cid).label("cid"), sa.literal(ver).label("ver"),
                  sa.literal(order).label("ord"))
        for i, (cid, ver, order) in enumerate(steps)
    ]
    return sa.union_all(*rows).subquery("plan_steps")


def _per_posting(workflow_id: int, steps: StepVersions, wave_keys: Sequence[str] | None) -> sa.Subquery:
    """wave_key, posting_id, code (first break: index * 8 + kind, NULL: none), last (the highest execution
    order with a row), routed (the plan index of the prefix's last completed row: its next is where the
    posting goes; a skipped row passes the route on, and a sibling's may have been written first)."""
    s = _steps(steps)
    retryable = psc.c.state_snapshot["retryable"].as_boolean()
    # the plan index of the step a row's version is the cumulative version of (NULL: none of this plan)
    made_at = sa.case({ver: i for i, (_, ver, _) in enumerate(steps)}, value=psc.c.code_version, else_=sa.null())
    current = sa.or_(psc.c.code_version == s.c.ver, sa.and_(psc.c.status == "skipped", made_at < s.c.idx))
    code = sa.case(
        (psc.c.status.is_(None), s.c.idx * 8 + _MISSING),
        (sa.and_(current, psc.c.status != "failed"), sa.null()),
        (current, s.c.idx * 8 + sa.case((retryable, _FAILED_RETRYABLE), else_=_FAILED)),
        (psc.c.status == "failed", s.c.idx * 8 + sa.case((retryable, _OLD_FAILED_RETRYABLE), else_=_OLD_FAILED)),
        else_=s.c.idx * 8 + _OLD,
    )
    joined = wave_postings.join(s, sa.true()).outerjoin(
        psc,
        sa.and_(
            psc.c.workflow_id == wave_postings.c.workflow_id,
            psc.c.posting_id == wave_postings.c.posting_id,
            psc.c.conversation_id == s.c.cid,
        ),
    )
    # the first break up to and including this step, in plan order: NULL while the prefix goes on
    broken = sa.func.min(code).over(partition_by=wave_postings.c.posting_id, order_by=s.c.idx)
    rows = (
        sa.select(
            wave_postings.c.wave_key, wave_postings.c.posting_id, s.c.idx, s.c.ord, code.label("code"),
            psc.c.status, broken.label("broken"),
        )
        .select_from(joined)
        .where(wave_postings.c.workflow_id == workflow_id)
    )
    if wave_keys is not None:
        rows = rows.where(wave_postings.c.wave_key.in_(list(wave_keys)))
    r = rows.subquery("rows")
    last = sa.case((r.c.status.is_not(None), r.c.ord), else_=sa.null())
    routed = sa.case((sa.and_(r.c.broken.is_(None), r.c.status == "completed"), r.c.idx), else_=sa.null())
    return (
        sa.select(r.c.wave_key, r.c.posting_id, sa.func.min(r.c.code).label("code"), sa.func.max(last).label("last"),
                  sa.func.max(routed).label("routed"))
        .group_by(r.c.wave_key, r.c.posting_id)
        .subquery("per_posting")
    )


def standing_query(workflow_id: int, steps: StepVersions, wave_keys: Sequence[str] | None = None) -> sa.Subquery:
    """One row per admitted posting: wave_key, posting_id, state, at, retryable, failed, next_id."""
    n = len(steps)
    p = _per_posting(workflow_id, steps, wave_keys)
    at = sa.func.coalesce(p.c.code // 8, n)
    kind = p.c.code % 8
    at_order = sa.case(*[(at == i, order) for i, (_, _, order) in enumerate(steps)], else_=sa.null())
    state = sa.case(
        (p.c.code.is_(None), int(State.DONE)),
        (sa.and_(kind == _MISSING, sa.func.coalesce(p.c.last, -1) <= at_order), int(State.PENDING)),
        (kind.in_([_FAILED_RETRYABLE, _FAILED, _OLD_FAILED_RETRYABLE]), int(State.HELD)),
        else_=int(State.STALE),
    )
    retryable = sa.case((kind.in_([_FAILED_RETRYABLE, _OLD_FAILED_RETRYABLE]), 1), else_=0)
    failed = sa.case((kind == _OLD_FAILED, 1), else_=0)
    front = psc.alias("front_row")
    before = sa.case(*[(p.c.routed == i, cid) for i, (cid, _, _) in enumerate(steps)], else_=sa.null())
    nxt = front.c.state_snapshot["current_conversation_id"].as_integer()
    return (
        sa.select(
            p.c.wave_key, p.c.posting_id, state.label("state"), at.label("at"), retryable.label("retryable"),
            failed.label("failed"), nxt.label("next_id"), p.c.routed.label("routed"),
        )
        .select_from(
            p.outerjoin(
                front,
                sa.and_(front.c.workflow_id == workflow_id, front.c.posting_id == p.c.posting_id,
                        front.c.conversation_id == before),
            )
        )
        .subquery("standing")
    )


@contextmanager
def _reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for a standings query, the tables analyzed first if they outgrew their statistics."""
    analyze_if_grown(engine)
    with engine.connect() as conn:
        yield conn


def _standings(rows: Iterable[sa.Row]) -> Iterable[Standing]:
    for r in rows:
        yield Standing(r.posting_id, r.wave_key, State(r.state), r.at, bool(r.retryable), bool(r.failed), r.next_id,
                       r.routed)


def wave_standings(engine: sa.Engine, workflow_id: int, steps: StepVersions, wave_key: str) -> dict[str, Standing]:
    """Every member of one wave, by posting id."""
    if not steps:
        return {}
    q = standing_query(workflow_id, steps, [wave_key])
    with _reading(engine) as conn:
        return {s.posting_id: s for s in _standings(conn.execute(sa.select(q)))}


@dataclass(frozen=True)
class WaveAssessment:
    wave_key: str
    work: bool  # has a member the scope takes
    plain_work: bool  # has a member a plain run takes (new work, retryable failures)
    stale: int  # members whose results are stale
    held: int = 0  # members a failure holds until `--retry-failed` (a plain run leaves them alone)
    retried: int = 0  # members whose failure a plain run retries


def assess_waves(engine: sa.Engine, workflow_id: int, steps: StepVersions, scope: Scope) -> list[WaveAssessment]:
    """Per wave whose marks leave it open for `scope` (store/marks.py): whether `scope` has work there,
    and how many members are stale or held, in SQL a batch of waves at a time."""
    if not steps:
        return []

    def count(condition: sa.ColumnElement) -> sa.ColumnElement:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    out: list[WaveAssessment] = []
    with _reading(engine) as conn:
        for part in batched(waves_to_read(conn, workflow_id, plan_version(steps), scope.stale, scope.failed), _WAVES_PER_QUERY):
            q = standing_query(workflow_id, steps, part)
            plain = sa.or_(q.c.state == int(State.PENDING), sa.and_(q.c.state == int(State.HELD), q.c.retryable == 1))
            held = sa.or_(sa.and_(q.c.state == int(State.HELD), q.c.retryable == 0),
                          sa.and_(q.c.state == int(State.STALE), q.c.failed == 1))
            taken = [plain]
            if scope.failed:
                taken.append(held)
            if scope.stale:
                taken.append(q.c.state == int(State.STALE))
            query = sa.select(
                q.c.wave_key, count(sa.or_(*taken)), count(plain), count(q.c.state == int(State.STALE)), count(held),
                count(sa.and_(q.c.state == int(State.HELD), q.c.retryable == 1)),
            ).group_by(q.c.wave_key).order_by(q.c.wave_key)
            out += [WaveAssessment(k, bool(w), bool(p), int(s or 0), int(h or 0), int(r or 0))
                    for k, w, p, s, h, r in conn.execute(query)]
    return out


@dataclass(frozen=True)
class StepCounts:
    """Postings per (state, at, retryable, failed, next_id), for status and plan."""

    rows: list[tuple[State, int, bool, bool, int | None, int]]

    def where(self, state: State, at: int | None = None) -> int:
        return sum(n for s, a, *_rest, n in self.rows if s is state and (at is None or a == at))

    def held(self) -> int:
        """Postings a failure holds until `--retry-failed` (a plain run leaves them alone)."""
        return sum(n for s, _a, retryable, failed, _next, n in self.rows
                   if (s is State.HELD and not retryable) or (s is State.STALE and failed))

    def retried(self) -> int:
        """Postings whose failure (the server's) the next plain run retries."""
        return sum(n for s, _a, retryable, _failed, _next, n in self.rows if s is State.HELD and retryable)


def standing_counts(engine: sa.Engine, workflow_id: int, steps: StepVersions) -> StepCounts:
    """How many admitted postings stand where, in one query (cost: an index scan, no Python per posting)."""
    if not steps:
        return StepCounts([])
    q = standing_query(workflow_id, steps)
    query = sa.select(q.c.state, q.c.at, q.c.retryable, q.c.failed, q.c.next_id, sa.func.count()).group_by(
        q.c.state, q.c.at, q.c.retryable, q.c.failed, q.c.next_id
    )
    with _reading(engine) as conn:
        rows = [(State(s), int(a), bool(r), bool(f), nxt, int(n)) for s, a, r, f, nxt, n in conn.execute(query)]
    return StepCounts(rows)
