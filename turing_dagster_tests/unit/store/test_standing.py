"""Where postings stand (store/standing.py), in SQL, against the rule written out in Python as the oracle."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from turing_dagster.dagster_defs.runner import settle
from turing_dagster.steps.progress import progress, step_versions
from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import waves
from turing_dagster.store.standing import Scope, State, assess_waves, wave_standings
from turing_dagster.store.waves import admit, wave_keys, wave_members
from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan


def _plan(prompt: str = "x", d_prompt: str = "x") -> WorkflowPlan:
    # a -> b or c (siblings, one execution order), both -> d
    convs = [
        ("a", 1, [{"when": {"contains": "B"}, "goto": "b"}, {"goto": "c"}]),
        ("b", 2, [{"goto": "d"}]),
        ("c", 2, [{"when": {"contains": "END"}, "goto": "END"}, {"goto": "d"}]),
        ("d", 3, [{"goto": "END"}]),
    ]
    data = {"workflow_id": 77, "name": "q", "conversations": [
        {"conversation_id": 700 + i, "name": n, "execution_order": o, "actor": "gemma2",
         "prompt": prompt if n == "c" else d_prompt if n == "d" else "x", "next": nxt} for i, (n, o, nxt) in enumerate(convs)]}
    wf, errors = parse_workflow(data)
    assert not errors, errors
    return WorkflowPlan(wf)


def _oracle(plan: WorkflowPlan, rows: dict[int, Checkpoint]) -> tuple[State, int, bool, bool]:
    """The module docstring's rule, posting by posting."""
    for i, step in enumerate(plan.steps):
        r = rows.get(step.conversation.conversation_id)
        current = r is not None and plan.is_current(step, r.code_version, r.status)
        if current and r.status != "failed":
            continue
        if r is None:
            order = step.conversation.execution_order
            later = [s for s in plan.steps if s.conversation.conversation_id in rows
                     and s.conversation.execution_order > order]
            return (State.STALE if later else State.PENDING), i, False, False
        retryable = bool(r.snapshot.get("retryable"))
        if r.status == "failed" and (current or retryable):
            return State.HELD, i, retryable, False
        return State.STALE, i, False, r.status == "failed"
    return State.DONE, len(plan.steps), False, False


def _seed(engine, plan, rng, n=60, wave_size=3):
    upsert_postings(engine, [{"posting_id": f"p{i:03d}", "job_title": "t", "job_description": "d"} for i in range(n)])
    ids = [s.conversation.conversation_id for s in plan.steps]
    rows = []
    for wave in admit(engine, plan.workflow.workflow_id, wave_size):
        for pid in wave.posting_ids:
            done = rng.random() < 0.5
            for step in plan.steps:
                if not done and rng.random() < 0.3:
                    continue
                status = "completed" if done else rng.choice(["completed", "completed", "skipped", "failed"])
                version = step.version if done or rng.random() < 0.8 else rng.choice(["stale", None])
                if status == "skipped" and step.index and rng.random() < 0.5:  # stamped by the step that routed past
                    version = rng.choice([s.version for s in plan.steps[: step.index + 1]])
                snapshot = {"retryable": rng.random() < 0.5} if status == "failed" else {}
                rows.append(Checkpoint(pid, step.conversation.conversation_id, status, "o", rng.choice([*ids, None]),
                                       version, wave.key, snapshot=snapshot))
    write_chunk(engine, plan.workflow.workflow_id, rows)


def _rows(engine, plan) -> dict[str, dict[int, Checkpoint]]:
    from turing_dagster.store.checkpoints import checkpoints_for

    members = [p for ids in wave_members(engine, 77, wave_keys(engine, 77)).values() for p in ids]
    found: dict[str, dict[int, Checkpoint]] = {p: {} for p in members}
    for (pid, cid), cp in checkpoints_for(engine, 77, members).items():
        found[pid][cid] = cp
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_standing_is_the_rule_for_every_posting(engine, seed):
    plan, edited = _plan(), _plan("edited c")
    _seed(engine, plan, random.Random(seed))
    for p in (plan, edited, plan):  # an edit of c changes c's and d's versions; a revert changes them back
        expected = {pid: _oracle(p, rows) for pid, rows in _rows(engine, p).items()}
        got = {}
        for wave in wave_keys(engine, 77):
            for pid, s in wave_standings(engine, 77, step_versions(p), wave).items():
                got[pid] = (s.state, s.at, s.retryable, s.failed)
        assert got == expected
        if p is plan:
            assert {st for st, *_ in expected.values()} == set(State)  # the scenario has every kind


@pytest.mark.parametrize("seed", [4, 5])
def test_settled_marks_count_what_the_checkpoints_say(engine, seed):
    """settle's totals come from the marks of settled waves and the open waves' checkpoints; after every
    edit, revert and re-settle they are the rule's counts over all postings, and settled waves are not read."""
    plan, edited = _plan(), _plan("edited c")
    _seed(engine, plan, random.Random(seed))
    for p in (plan, edited, plan, plan):
        expected = [_oracle(p, rows) for rows in _rows(engine, p).values()]
        stale = sum(st is State.STALE for st, *_ in expected)
        held = sum((st is State.HELD and not r) or (st is State.STALE and f) for st, _, r, f in expected)
        retried = sum(st is State.HELD and r for st, _, r, _ in expected)
        assert settle(engine, p) == (stale, held, retried)
        open_waves = {a.wave_key for a in assess_waves(engine, 77, step_versions(p), Scope())}
        assert open_waves == {a.wave_key for a in assess_waves(engine, 77, step_versions(p), Scope()) if a.plain_work}
        assert 0 < len(open_waves) < len(wave_keys(engine, 77))  # the scenario has both kinds


def test_a_wave_is_settled_for_plain_runs_until_a_checkpoint_is_written_into_it(engine):
    plan = _plan()
    upsert_postings(engine, [{"posting_id": "x1", "job_title": "t", "job_description": "d"}])
    (wave,) = admit(engine, 77, 10)
    a, b, c, d = plan.steps
    write_chunk(engine, 77, [Checkpoint("x1", s.conversation.conversation_id, "completed", "B", None, s.version, wave.key)
                             for s in (a, b, d)] + [Checkpoint("x1", 702, "skipped", None, None, c.version, wave.key)])
    assert settle(engine, plan) == (0, 0, 0)
    assert assess_waves(engine, 77, step_versions(plan), Scope()) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(waves.c.finished_version)).scalar() == plan.steps[-1].version
    # an edit: the wave is looked at again and found stale, which a plain run leaves alone
    edited = _plan("edited c")
    (looked,) = assess_waves(engine, 77, step_versions(edited), Scope())
    assert (looked.work, looked.stale) == (False, 1)
    assert assess_waves(engine, 77, step_versions(edited), Scope(stale=True))[0].work
    assert settle(engine, edited) == (1, 0, 0) and progress(engine, edited).stale_postings == 1
    # settled under the edit: a plain run and a --retry-failed run do not read it, a --stale run still does
    assert assess_waves(engine, 77, step_versions(edited), Scope()) == []
    assert assess_waves(engine, 77, step_versions(edited), Scope(failed=True)) == []
    assert [a.wave_key for a in assess_waves(engine, 77, step_versions(edited), Scope(stale=True))] == [wave.key]
    # any write reopens it, whatever the plan version is
    write_chunk(engine, 77, [Checkpoint("x1", 703, "failed", None, 703, d.version, wave.key, snapshot={"retryable": True})])
    (again,) = assess_waves(engine, 77, step_versions(plan), Scope())
    assert again.plain_work


def test_an_edit_after_a_route_ended_leaves_that_posting_done(engine):
    plan = _plan()
    upsert_postings(engine, [{"posting_id": "e1", "job_title": "t", "job_description": "d"}])
    (wave,) = admit(engine, 77, 10)
    a, b, c, d = plan.steps
    # a sends it to c, c ends its route: b and d are skipped, stamped with the version of the step that routed past
    write_chunk(engine, 77, [
        Checkpoint("e1", 700, "completed", "C", 702, a.version, wave.key),
        Checkpoint("e1", 701, "skipped", None, 702, a.version, wave.key),
        Checkpoint("e1", 702, "completed", "END", None, c.version, wave.key),
        Checkpoint("e1", 703, "skipped", None, None, c.version, wave.key),
    ])
    for p in (plan, _plan(d_prompt="edited d")):  # d never ran for it: editing d changes nothing about it
        (standing,) = wave_standings(engine, 77, step_versions(p), wave.key).values()
        assert standing.state is State.DONE
        where = progress(engine, p)
        assert where.stale_postings == 0 and [s.skipped for s in where.steps] == [0, 1, 0, 1]
        assert [s.stale for s in where.steps] == [0, 0, 0, 0]
    edited_c = _plan("edited c")  # c made the route: its result and the skip it decided are stale
    (standing,) = wave_standings(engine, 77, step_versions(edited_c), wave.key).values()
    assert (standing.state, standing.at) == (State.STALE, 2)
