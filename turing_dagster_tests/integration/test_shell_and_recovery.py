"""From the shell, as users run it: `dagster job execute`, and `turing run` killed mid-step."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from turing_dagster.ollama.calls import normalize_model
from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.waves import admit, wave_members
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import assert_routed_by_rules, make_postings, rows, workflow

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
TURING = [sys.executable, "-c", "from turing_dagster.cli import console_main; console_main()"]

pytestmark = pytest.mark.usefixtures("workflows_dir")


def _env(db_url: str, ollama: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(TURING_DATABASE_URL=db_url, OLLAMA_HOST=ollama, PYTHONPATH=str(ROOT), **extra)
    return env


def test_dagster_job_execute_runs_one_wave_then_a_range(engine, instance, sim, db_url):
    make_postings(engine, 18)
    waves = [w.key for w in admit(engine, 9001, 6)]
    instance.add_dynamic_partitions("branchy_waves", waves)
    members = wave_members(engine, 9001, waves)
    env = _env(db_url, sim.url)

    def execute(tags: dict) -> subprocess.CompletedProcess:
        cmd = [str(DAGSTER), "job", "execute", "-m", "turing_dagster", "-j", "branchy", "--tags", json.dumps(tags)]
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)

    done = execute({"dagster/partition": "w000001"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert {r.posting_id for r in rows(engine)} == set(members["w000001"])
    sim.reset()  # the simulator's timeline from here on is the range run's
    done = execute({"dagster/asset_partition_range_start": "w000002", "dagster/asset_partition_range_end": "w000003"})
    assert done.returncode == 0, done.stderr[-2000:]
    plan = WorkflowPlan(workflow())
    everyone = [pid for key in waves for pid in members[key]]
    assert_routed_by_rules(plan, engine, everyone)
    # one run for the range: each model loaded at most once per run of consecutive steps using it,
    # for both waves together (a run per wave would load every block twice)
    runs = instance.get_runs()
    assert len(runs) == 2 and all(r.is_success for r in runs)
    models = [s.model for s in plan.steps if s.model]
    blocks = Counter(normalize_model(m) for i, m in enumerate(models) if i == 0 or models[i - 1] != m)
    loads = sim.timeline()["counts"]["loads"]
    assert loads and all(n <= blocks[model] for model, n in loads.items()), (loads, blocks)


def test_turing_run_killed_mid_step_resumes_and_repeats_at_most_one_chunk(engine, instance, db_url):
    chunk = 8
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.05, request_seconds=0.06), parallel=4)
    with start_simulator(config, port=0) as sim:
        ids = make_postings(engine, 48)
        env = _env(db_url, sim.url, TURING_CHUNK_SIZE=str(chunk), DAGSTER_HOME=os.environ["DAGSTER_HOME"])
        proc = subprocess.Popen([*TURING, "run", "branchy"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        written = 0
        while time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as conn:
                written = conn.execute(
                    sa.select(sa.func.count()).where(psc.c.conversation_id == 902, psc.c.status == "completed")
                ).scalar_one()
            if written >= 2 * chunk:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert 0 < written < len(ids)

        again = subprocess.run([*TURING, "run", "branchy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
        assert again.returncode == 0, again.stderr[-2000:]

        assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)  # every posting processed once
        summaries = Counter(
            re.search(r"ID: (\S+)", m["content"]).group(1)
            for body in sim.requests()
            for m in body.get("messages", [])
            if "Summarise this posting" in m["content"]
        )
        repeated = sum(n - 1 for n in summaries.values())
        assert repeated <= chunk, summaries
    with engine.connect() as conn:
        dupes = conn.execute(
            sa.select(psc.c.posting_id, psc.c.conversation_id).group_by(psc.c.posting_id, psc.c.conversation_id).having(sa.func.count() > 1)
        ).all()
    assert dupes == []


def test_a_second_turing_run_leaves_a_wave_in_progress_alone(engine, instance, db_url, monkeypatch):
    from turing_dagster_tests.integration.helpers import run

    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.05, request_seconds=0.05), parallel=4)
    with start_simulator(config, port=0) as sim:
        ids = make_postings(engine, 24)
        env = _env(db_url, sim.url, TURING_CHUNK_SIZE="4", DAGSTER_HOME=os.environ["DAGSTER_HOME"])
        proc = subprocess.Popen([*TURING, "run", "branchy"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not any(r.conversation_id == 902 for r in rows(engine)):
            time.sleep(0.01)
        assert proc.poll() is None, "the first run finished too early"
        monkeypatch.setenv("OLLAMA_HOST", sim.url)
        second = run(engine, instance)
        assert second.busy == ["w000001"] and second.ranges == [] and second.ok
        assert proc.wait(timeout=240) == 0, proc.stderr.read()[-2000:]
        summaries = Counter(
            re.search(r"ID: (\S+)", m["content"]).group(1)
            for body in sim.requests()
            for m in body.get("messages", [])
            if "Summarise this posting" in m["content"]
        )
        assert summaries and set(summaries.values()) == {1}  # nobody's work was done twice
        assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)
