"""Ollama hosts from the shell: TURING_OLLAMA_HOSTS drives `turing run`; a list in OLLAMA_HOST is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import assert_routed_by_rules, make_postings, minimal_loads, workflow

ROOT = Path(__file__).resolve().parents[2]
TURING = [sys.executable, "-c", "from turing_dagster.cli import console_main; console_main()"]
LIST = "http://127.0.0.1:11434,http://127.0.0.1:11435"

pytestmark = [pytest.mark.usefixtures("workflows_dir"), pytest.mark.timeout(240)]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "OLLAMA_HOST", "TURING_OLLAMA"))}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def test_a_list_in_ollama_host_is_one_line_not_an_import_traceback():
    done = subprocess.run([*TURING, "init"], cwd=ROOT, env=_env(OLLAMA_HOST=LIST), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: OLLAMA_HOST holds one host") and "TURING_OLLAMA_HOSTS" in done.stderr
    # the code location (UI, `dagster job execute`) still loads: runs then fail on the same line
    code = "import turing_dagster.definitions as d; print(len(d.defs().resolve_all_job_defs()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(OLLAMA_HOST=LIST),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_turing_run_shares_steps_across_turing_ollama_hosts(engine, instance, db_url):
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.02, request_seconds=0.02), parallel=4)
    with start_simulator(config, port=0) as one, start_simulator(config, port=0) as two:
        ids = make_postings(engine, 30)
        env = _env(TURING_DATABASE_URL=db_url, TURING_OLLAMA_HOSTS=f"{one.url},{two.url}",
                   DAGSTER_HOME=os.environ["DAGSTER_HOME"])
        done = subprocess.run([*TURING, "run", "branchy"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=200)
        assert done.returncode == 0, done.stderr[-2000:]
        assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)
        for sim in (one, two):
            assert any("messages" in r for r in sim.requests())
            # each host loads each model run of the plan once, as one host would (it holds one model)
            assert sum(sim.timeline()["counts"]["loads"].values()) == minimal_loads(WorkflowPlan(workflow()), engine)
