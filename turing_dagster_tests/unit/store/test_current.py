"""SQL-side standing (store/current.py) against the former Python computation, kept here as the oracle."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from turing_dagster.dagster_defs.runner import unfinished_waves
from turing_dagster.steps.held import Held, held_by_failures
from turing_dagster.steps.progress import progress
from turing_dagster.steps.wave_state import load_wave_state
from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.migrate import current_version, upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import SCHEMA_VERSION, waves
from turing_dagster.store.waves import admit, wave_keys
from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan


def _plan(prompt: str = "x") -> WorkflowPlan:
    # a -> b or c (branch), both -> d; python step p at the end
    convs = [
        ("a", 1, [{"when": {"contains": "B"}, "goto": "b"}, {"goto": "c"}]),
        ("b", 2, [{"goto": "d"}]),
        ("c", 2, [{"when": {"contains": "END"}, "goto": "END"}, {"goto": "d"}]),
        ("d", 3, [{"goto": "END"}]),
    ]
    data = {
        "workflow_id": 77,
        "name": "q",
        "conversations": [
            {"conversation_id": 700 + i, "name": n, "execution_order": o, "actor": "gemma2",
             "prompt": prompt if n == "c" else "x", "next": nxt}
            for i, (n, o, nxt) in enumerate(convs)
        ],
    }
    wf, errors = parse_workflow(data)
    assert not errors, errors
    return WorkflowPlan(wf)


# --- the oracle: the Python computation this SQL replaced, unchanged -------------------------------
def _old_unfinished(engine, plan, retry_failed=False):
    keys = wave_keys(engine, plan.workflow.workflow_id)
    if not keys:
        return []
    state = load_wave_state(engine, plan, keys, len(plan.steps) - 1)
    last = len(plan.steps) - 1
    return sorted(
        {ps.wave_key for ps in state.postings.values() if ps.frontier_index < last
         and (retry_failed or ps.failed is None or ps.failed.snapshot.get("retryable", False))}
    )


def _old_pending(engine, plan):
    keys = wave_keys(engine, plan.workflow.workflow_id)
    pending = {s.conversation.conversation_id: 0 for s in plan.steps}
    admitted = finished = 0
    state = load_wave_state(engine, plan, keys, len(plan.steps) - 1) if keys else None
    for ps in state.postings.values() if state else ():
        admitted += 1
        if ps.failed is not None:
            continue
        if ps.frontier is None:
            pending[plan.steps[0].conversation.conversation_id] += 1
        elif ps.frontier.next_conversation_id is None:
            finished += 1
        elif ps.frontier.next_conversation_id in pending:
            pending[ps.frontier.next_conversation_id] += 1
    return admitted, finished, pending


def _new_pending(engine, plan):
    p = progress(engine, plan)
    return p.admitted, p.finished, {s.conversation_id: s.pending for s in p.steps}


def _old_held(engine, plan):
    state = load_wave_state(engine, plan, wave_keys(engine, plan.workflow.workflow_id), len(plan.steps) - 1)
    failed = [ps.failed for ps in state.postings.values() if ps.failed is not None]
    retried = sum(1 for cp in failed if cp.snapshot.get("retryable", False))
    return Held(len(failed) - retried, retried)


def _seed(engine, plan, rng, n=60, wave_size=3):
    upsert_postings(engine, [{"posting_id": f"p{i:03d}", "job_title": "t", "job_description": "d"} for i in range(n)])
    admitted = admit(engine, plan.workflow.workflow_id, wave_size)
    ids = [s.conversation.conversation_id for s in plan.steps]
    rows = []
    for wave in admitted:
        for pid in wave.posting_ids:
            done = rng.random() < 0.6  # through to the end, so that some waves are finished
            for step in plan.steps:
                if done:
                    rows.append(Checkpoint(pid, step.conversation.conversation_id, "completed", "o",
                                           rng.choice([None, ids[-1]]), step.version, wave.key))
                    continue
                if rng.random() < 0.3:
                    continue
                status = rng.choice(["completed", "completed", "skipped", "failed"])
                version = step.version if rng.random() < 0.85 else "stale"
                nxt = rng.choice([*ids, None, 999])  # 999: a conversation the plan does not have
                snapshot = {"retryable": rng.random() < 0.5} if status == "failed" else {}
                rows.append(Checkpoint(pid, step.conversation.conversation_id, status, "o", nxt, version, wave.key,
                                       snapshot=snapshot))
    write_chunk(engine, plan.workflow.workflow_id, rows)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_standing_agrees_with_the_python_rebuild(engine, seed):
    plan, edited = _plan(), _plan("edited c")
    _seed(engine, plan, random.Random(seed))
    every = wave_keys(engine, 77)
    assert 0 < len(_old_unfinished(engine, plan)) < len(every)  # the scenario has both kinds of wave
    for p in (plan, edited, plan):  # the edit changes versions of c and d: markers must not hide it
        for retry in (False, True):
            expected = _old_unfinished(engine, p, retry)
            assert unfinished_waves(engine, p, retry) == expected
            assert unfinished_waves(engine, p, retry) == expected  # again, now through the finished markers
        assert _new_pending(engine, p) == _old_pending(engine, p)
        assert held_by_failures(engine, p) == _old_held(engine, p)


def test_finished_waves_are_marked_and_a_new_failure_reopens_them(engine):
    plan = _plan()
    upsert_postings(engine, [{"posting_id": "x1", "job_title": "t", "job_description": "d"}])
    (wave,) = admit(engine, 77, 10)
    a, b, _c, d = plan.steps
    write_chunk(engine, 77, [Checkpoint("x1", s.conversation.conversation_id, "completed", "B", None, s.version, wave.key)
                             for s in (a, b, d)] + [Checkpoint("x1", 702, "skipped", None, None, _c.version, wave.key)])
    assert unfinished_waves(engine, plan) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(waves.c.finished_version)).scalar() == plan.steps[-1].version
    write_chunk(engine, 77, [Checkpoint("x1", 703, "failed", None, 703, d.version, wave.key, snapshot={"retryable": True})])
    assert unfinished_waves(engine, plan) == [wave.key] == _old_unfinished(engine, plan)


def test_upgrade_from_v2_adds_the_finished_marker_and_indexes(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_waves_finished"))
        conn.execute(sa.text("DROP INDEX ix_checkpoints_version"))
        conn.execute(sa.text("ALTER TABLE waves DROP COLUMN finished_version"))
        conn.execute(sa.text("DELETE FROM turing_schema_version WHERE version > 2"))
    assert upgrade(engine) == (2, SCHEMA_VERSION)
    with engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
        inspector = sa.inspect(conn)
        assert "finished_version" in {c["name"] for c in inspector.get_columns("waves")}
        assert "ix_waves_finished" in {i["name"] for i in inspector.get_indexes("waves")}
        assert "ix_checkpoints_version" in {i["name"] for i in inspector.get_indexes("posting_state_checkpoints")}
