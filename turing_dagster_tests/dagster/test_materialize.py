"""Materializing python-actor steps on a temporary instance: checkpoints, failures, metadata, reruns."""

from __future__ import annotations

import gc
import sys

import dagster as dg
import pytest
import sqlalchemy as sa

from turing_dagster.dagster_defs.assets import IO_MANAGER_KEY
from turing_dagster.dagster_defs.factory import build_workflow_assets
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.interpreter import FULL_PASS_EVERY, SWITCH_INTERVAL_SECONDS
from turing_dagster.steps.qa import evaluate_workflow
from turing_dagster.steps.wave_state import LOADED
from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.schema import postings
from turing_dagster.store.waves import admit
from turing_dagster.workflows.loader import load_workflows
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests import actors


@pytest.fixture
def setup(workflows_dir, instance, tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = get_engine(url)
    upgrade(engine)
    records = [
        {"posting_id": f"p{i:03d}", "job_title": f"role {i}", "job_description": "" if i == 4 else "x" * 40, "extra": {}}
        for i in range(20)
    ]
    upsert_postings(engine, records)
    wf = next(w for w in load_workflows() if w.name == "pyonly")
    waves = [w.key for w in admit(engine, wf.workflow_id, 10)]
    instance.add_dynamic_partitions("pyonly_waves", waves)
    store = TuringStore(database_url=url)
    resources = {
        "store": store,
        "ollama": OllamaModels(host="http://127.0.0.1:1"),  # never called: python actors only
        IO_MANAGER_KEY: CheckpointIOManager(store=store),
    }
    yield engine, build_workflow_assets(WorkflowPlan(wf)), resources
    dispose_all()


def _statuses(engine):
    with engine.connect() as conn:
        return {(r.posting_id, r.conversation_id): r.status for r in conn.execute(sa.select(psc))}


def _metadata(result, name, wave):
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.path[-1] == name and mat.partition == wave:
            return {k: v.value for k, v in mat.metadata.items()}
    raise AssertionError(f"no materialization of {name} for {wave}")


def test_a_wave_materializes_step_by_step_with_per_posting_failures(setup, instance):
    engine, assets, resources = setup
    before, thresholds = sys.getswitchinterval(), gc.get_threshold()
    actors.SWITCH_INTERVALS.clear()
    actors.GC_THRESHOLDS.clear()
    result = dg.materialize(assets, partition_key="w000001", instance=instance, resources=resources)
    assert result.success  # an actor raising for one posting fails that posting, not the run
    # the threads take turns often and full collections are rare while the step runs, and the
    # interpreter's own settings are back after it
    assert set(actors.SWITCH_INTERVALS) == {SWITCH_INTERVAL_SECONDS} and sys.getswitchinterval() == before
    assert {t[2] for t in actors.GC_THRESHOLDS} == {max(thresholds[2], FULL_PASS_EVERY)}
    assert {t[:2] for t in actors.GC_THRESHOLDS} == {thresholds[:2]} and gc.get_threshold() == thresholds
    status = _statuses(engine)
    assert status[("p004", 921)] == "completed" and status[("p004", 922)] == "skipped"  # [NO_CONTENT] -> END
    assert status[("p007", 922)] == "failed" and ("p007", 923) not in status  # held at risky
    assert status[("p001", 923)] == "completed"
    assert not any(pid >= "p010" for pid, _ in status)  # the other wave is untouched
    meta = _metadata(result, "02_risky", "w000001")
    assert (meta["completed"], meta["failed"], meta["skipped"]) == (8, 1, 1)  # the wave's own counts, first
    assert list(meta)[:4] == ["completed", "failed", "skipped", "reused"]
    assert meta["model"] == "python" and "p000" in meta["preview"]
    # the failed posting is named in the run's log, whoever launched it
    warnings = [r.user_message for r in instance.all_logs(result.run_id) if r.level == 30]
    assert [w for w in warnings if "p007" in w] == ["risky: posting p007 failed: RuntimeError: actor bug for this posting"]
    with engine.connect() as conn:
        saved = conn.execute(sa.select(postings.c.job_title_normalized).where(postings.c.posting_id == "p001")).scalar()
    assert saved == "ROLE 1 / fine"


def test_a_range_run_sorts_its_waves_and_reports_each(setup, instance):
    engine, assets, resources = setup
    result = dg.materialize(
        assets, instance=instance, resources=resources,
        tags={"dagster/asset_partition_range_start": "w000001", "dagster/asset_partition_range_end": "w000002"},
    )
    assert result.success
    assert _metadata(result, "03_tail", "w000002")["completed"] == 9  # p017 failed at risky
    assert _metadata(result, "03_tail", "w000001")["completed"] == 8
    assert _metadata(result, "03_tail", "w000001")["range"] == "w000001..w000002 (2 waves)"
    assert _metadata(result, "03_tail", "w000001")["range_completed"] == 17
    assert len({pid for pid, _ in _statuses(engine)}) == 20


def _failure(result) -> str:
    error = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    while error.cause is not None:  # Dagster wraps the step's own exception
        error = error.cause
    return error.message.strip()


@pytest.mark.parametrize(("run", "why"), [
    ({}, "pyonly: a run of its job covers waves: name one with --tags '{\"dagster/partition\": \"WAVE\"}' (or a "
         "range), or use `turing run pyonly`"),
    ({"tags": {"dagster/partition": "w0001"}}, "pyonly: Partition range w0001 to w0001 is not a valid range. Nonexistent partition "
                                 "keys: ['w0001']"),
    ({"tags": {"dagster/asset_partition_range_start": "w000002", "dagster/asset_partition_range_end": "w000001"}},
     "pyonly: the run's wave range holds no wave (does its start come after its end?)"),
])
def test_a_run_naming_no_wave_or_an_unknown_one_fails_in_one_line_before_any_step(setup, instance, run, why):
    engine, assets, resources = setup
    result = dg.materialize(assets, instance=instance, resources=resources, raise_on_error=False, **run)
    assert not result.success
    assert _failure(result) == (f"turing_dagster.steps.results.StepError: {why}; its waves: w000001, w000002 (2); "
                                "`turing status pyonly` shows where they stand")
    assert _statuses(engine) == {}  # no step ran, nothing written


def test_rerunning_a_wave_redoes_only_failed_steps(setup, instance):
    engine, assets, resources = setup
    dg.materialize(assets, partition_key="w000001", instance=instance, resources=resources)
    before = {k: v for k, v in _statuses(engine).items()}
    result = dg.materialize(assets, partition_key="w000001", instance=instance, resources=resources)
    meta = _metadata(result, "02_risky", "w000001")
    # an explicit materialization retries the failure about the posting (it fails again), nothing else
    assert meta["already_done"] == 9 and meta["failed"] == 1 and meta["completed"] == 0
    assert _statuses(engine) == before


def test_steps_log_structured_wave_batch_events(setup, instance):
    import json

    engine, assets, resources = setup
    result = dg.materialize(assets, partition_key="w000002", instance=instance, resources=resources)
    events = []
    for entry in instance.all_logs(result.run_id):
        text = entry.user_message or ""
        if text.startswith("{") and '"event": "wave_batch_' in text:
            events.append(json.loads(text))
    assert [e["conversation"] for e in events] == ["clean", "risky", "tail"]
    assert {k: events[1][k] for k in ("event", "workflow", "waves", "execution_order", "scope", "completed", "failed",
                                      "skipped", "already_done", "not_ready", "calls")} == {
        "event": "wave_batch_finished", "workflow": "pyonly", "waves": ["w000002"], "execution_order": 2,
        "scope": "new,stale,failed", "completed": 9, "failed": 1, "skipped": 0, "already_done": 0, "not_ready": 0,
        "calls": 0,
    }


def test_a_range_of_many_waves_holds_one_wave_at_a_time(workflows_dir, instance, tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = get_engine(url)
    upgrade(engine)
    upsert_postings(engine, [{"posting_id": f"r{i:03d}", "job_title": f"role {i}", "job_description": "x" * 40}
                             for i in range(30)])
    wf = next(w for w in load_workflows() if w.name == "pyonly")
    waves = [w.key for w in admit(engine, wf.workflow_id, 3)]
    instance.add_dynamic_partitions("pyonly_waves", waves)
    store = TuringStore(database_url=url)
    resources = {"store": store, "ollama": OllamaModels(host="http://127.0.0.1:1"),
                 IO_MANAGER_KEY: CheckpointIOManager(store=store, chunk_size=2)}
    LOADED.reset()
    result = dg.materialize(
        build_workflow_assets(WorkflowPlan(wf)), instance=instance, resources=resources,
        tags={"dagster/asset_partition_range_start": waves[0], "dagster/asset_partition_range_end": waves[-1]},
    )
    assert result.success and len(waves) == 10
    assert len({pid for pid, _ in _statuses(engine)}) == 30  # the whole range went through every step
    assert LOADED.loads > 10 and LOADED.peak == 3  # never more than one wave (3) in memory at once
    LOADED.reset()
    findings = evaluate_workflow(engine, WorkflowPlan(wf), waves)  # the QA checks over the same range
    assert findings and all(f.waves == waves for f in findings)
    assert LOADED.loads >= 10 and LOADED.peak == 3  # QA reads the range one wave at a time too
    dispose_all()
