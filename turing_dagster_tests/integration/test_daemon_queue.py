"""The team setup end to end: a code server, the real `dagster-daemon` and `dagster-webserver` on a
PostgreSQL instance configured by deploy/dagster.yaml, two Ollama simulator hosts and two workflows
each pointed at its own host. The sensors queue the runs, Dagster's run queue starts them, and
nothing is done by hand: the test only loads postings and waits.

A third workflow on the first host is run the other ways a user runs one, while the sensors' runs go on:
the UI's Materialize (the implicit asset job, launched through the webserver's GraphQL API, as the button
does) and `dagster asset materialize` (in its own process, past the queue).

Checked: every posting finished; runs driving the same host never overlapped, whoever launched them (the
pool's limit, and the in-process run's wait), and no host ever ran two models' inference at once; runs on
different hosts did overlap; the UI's run sent its calls to its workflow's host and shows its GPU timeline.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from turing_dagster.dagster_defs.gpu_timeline import run_events
from turing_dagster.dagster_defs.run_hosts import POOL_PREFIX
from turing_dagster.settings import normalize_host
from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.steps.progress import progress
from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.waves import admit
from turing_dagster.workflows.loader import load_workflows
from turing_dagster.workflows.plan import WorkflowPlan, asset_name
from turing_dagster_tests.conftest import DAGSTER_PG_URL
from turing_dagster_tests.integration.helpers import forget_waves, make_postings

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 150
POSTINGS = 8  # two waves of four per workflow: two runs per host, queued behind each other

# one host each, two models each (distinct, so a host's timeline shows whose runs it served)
WORKFLOW = """\
workflow_id: {id}
name: {name}
conversations:
  - {{conversation_id: {id}1, name: clean, execution_order: 1, actor: "python:turing_dagster_tests.actors:clean"}}
  - conversation_id: {id}2
    name: summarize
    execution_order: 2
    actor: {first}
    prompt: "ID: {{posting.posting_id}}\\nSummarise: {{clean}}"
  - conversation_id: {id}3
    name: grade
    execution_order: 3
    actor: {second}
    prompt: "ID: {{posting.posting_id}}\\nGrade this summary: {{summarize}}"
{waves}
"""
MODELS = {"alpha": ("gemma3:4b", "gemma2:latest"), "beta": ("qwen2.5:latest", "llama3.2:latest"),
          "gamma": ("phi3:mini", "mistral:7b")}
HOSTS = {"alpha": "a", "beta": "b", "gamma": "a"}  # gamma shares alpha's host; its sensor never admits a wave
SENSOR_WAVES = "waves: {min_size: 4, max_wait_seconds: 1, max_size: 4}"
NO_SENSOR_WAVES = "waves: {min_size: 1000, max_wait_seconds: 86400, max_size: 1000}"
LAUNCH = """
mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""
TIMELINE = """
query ($key: AssetKeyInput!, $wave: String!) {
  assetOrError(assetKey: $key) { ... on Asset { assetMaterializations(limit: 1, partitions: [$wave]) {
    runId metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"process exited ({proc.returncode}) before listening:\n{_tail(log)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"nothing listens on {port} after {seconds}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


@pytest.fixture
def processes(tmp_path):
    """Start commands in their own process groups; teardown ends each group (run workers included)."""
    started: list[subprocess.Popen] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        started.append(proc)
        return proc, log

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        try:  # children the leader left behind (a run worker), same group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _instance_config(home: Path, dagster_url: str) -> dict[str, str]:
    """deploy/dagster.yaml as shipped, polling the queue every second; its env vars from the URL."""
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    config["run_queue"]["dequeue_interval_seconds"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    url = sa.engine.make_url(dagster_url)
    return {"DAGSTER_PG_HOST": url.host or "127.0.0.1", "DAGSTER_PG_PORT": str(url.port or 5432),
            "DAGSTER_PG_DB": url.database or "", "DAGSTER_PG_USER": url.username or "",
            "DAGSTER_PG_PASSWORD": url.password or ""}


def _graphql(url: str, text: str, variables: dict) -> dict:
    body = json.dumps({"query": text, "variables": variables}).encode()
    request = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        data = json.loads(answer.read())
    assert "errors" not in data, data["errors"]
    return data["data"]


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _launched_at(instance: dg.DagsterInstance, run_id: str) -> float:
    """When the queue let the run go. Its worker process then takes seconds to boot on a busy
    machine, longer than these small runs last, so RUN_START would hide what the queue did."""
    (event,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_STARTING)
    return event.timestamp


def _mixed_model_overlaps(timeline: dict) -> list[tuple[dict, dict]]:
    calls = [e for e in timeline["events"] if e["type"] == "inference"]
    return [(a, b) for i, a in enumerate(calls) for b in calls[i + 1:]
            if a["model"] != b["model"] and _overlaps((a["start"], a["end"]), (b["start"], b["end"]))]


def test_daemon_queues_sensor_runs_one_per_host_and_hosts_work_together(pg_url, tmp_path, processes, monkeypatch):
    dagster_url = DAGSTER_PG_URL or pg_url
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    for n, (name, (first, second)) in enumerate(MODELS.items()):
        (workflows / f"{name}.yaml").write_text(
            WORKFLOW.format(id=960 + n, name=name, first=first, second=second,
                            waves=NO_SENSOR_WAVES if name == "gamma" else SENSOR_WAVES))
    home = Path(os.environ["DAGSTER_HOME"])
    pg_env = _instance_config(home, dagster_url)
    for key, value in pg_env.items():  # this process's view of the same instance
        monkeypatch.setenv(key, value)
    instance = dg.DagsterInstance.get()  # creates Dagster's tables once, before three processes race to
    instance.wipe()
    instance.wipe_all_schedules()
    forget_waves(instance, *MODELS)

    engine = get_engine(pg_url)
    upgrade(engine)
    make_postings(engine, POSTINGS)
    plans = {w.name: WorkflowPlan(w) for w in load_workflows(workflows)}
    gamma_waves = [w.key for w in admit(engine, plans["gamma"].workflow.workflow_id, POSTINGS // 2)]
    instance.add_dynamic_partitions("gamma_waves", gamma_waves)
    profile = ModelProfile(load_seconds=0.3, request_seconds=0.05)
    # every model may be resident at once: two runs on one host would show as overlapping inference
    config = SimulatorConfig(models={m: ModelProfile() for pair in MODELS.values() for m in pair},
                             default_profile=profile, parallel=4, max_loaded_models=0)
    grpc_port, web_port = _free_port(), _free_port()
    (tmp_path / "workspace.yaml").write_text(
        f"load_from:\n  - grpc_server: {{host: 127.0.0.1, port: {grpc_port}, location_name: turing}}\n")
    with start_simulator(config) as host_a, start_simulator(config) as host_b:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TURING_", "OLLAMA_", "PYTEST_"))},
            **pg_env,
            "PYTHONPATH": str(ROOT),
            "DAGSTER_HOME": str(home),
            "TURING_DATABASE_URL": pg_url,
            "TURING_WORKFLOWS_DIR": str(workflows),
            "TURING_STATE_DIR": str(tmp_path / "state"),
            "TURING_OLLAMA_HOSTS_ALPHA": host_a.url,
            "TURING_OLLAMA_HOSTS_BETA": host_b.url,
            "TURING_OLLAMA_HOSTS_GAMMA": host_a.url,
            "TURING_SENSOR_INTERVAL_SECONDS": "1",
            "TURING_SENSORS_RUNNING": "1",
        }
        # what a deployment runs once: the schema, and each workflow's pool limited to one run
        done = subprocess.run([str(BIN / "turing"), "init"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        code, code_log = processes("code_server", [str(BIN / "dagster"), "api", "grpc", "-m", "turing_dagster.definitions",
                                                   "-h", "127.0.0.1", "-p", str(grpc_port)], env)
        _wait_for_port(grpc_port, code, code_log)
        ws = ["-w", str(tmp_path / "workspace.yaml")]
        daemon, daemon_log = processes("daemon", [str(BIN / "dagster-daemon"), "run", *ws], env)
        web, web_log = processes("webserver", [str(BIN / "dagster-webserver"), *ws, "-h", "127.0.0.1",
                                               "-p", str(web_port)], env)
        _wait_for_port(web_port, web, web_log)
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/server_info", timeout=10) as reply:
            assert "dagster_webserver_version" in json.loads(reply.read())
        web_url = f"http://127.0.0.1:{web_port}"
        keys = [["gamma", asset_name(s.conversation)] for s in plans["gamma"].steps]
        # the UI's Materialize of gamma's assets for one wave, and the same from a shell for the other
        launched = _graphql(web_url, LAUNCH, {"params": {
            "selector": {"repositoryLocationName": "turing", "repositoryName": "__repository__",
                         "pipelineName": "__ASSET_JOB", "assetSelection": [{"path": k} for k in keys]},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": gamma_waves[0]}]},
        }})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        shell, shell_log = processes("asset_materialize", [
            str(BIN / "dagster"), "asset", "materialize", "-m", "turing_dagster.definitions",
            "--select", ",".join("/".join(k) for k in keys), "--partition", gamma_waves[1]], env)

        end = time.monotonic() + DEADLINE_SECONDS
        while True:
            done = {name: progress(engine, plan) for name, plan in plans.items()}
            runs = instance.get_run_records()
            if (all(p.finished + sum(s.failed for s in p.steps) >= POSTINGS for p in done.values())
                    and runs and all(r.dagster_run.is_finished for r in runs)):
                break
            if time.monotonic() > end or daemon.poll() is not None:
                pytest.fail(f"not done after {DEADLINE_SECONDS}s: {[p.as_dict() for p in done.values()]}\n"
                            f"runs: {[(r.dagster_run.job_name, r.dagster_run.status.value) for r in runs]}\n"
                            f"daemon:\n{_tail(daemon_log)}\ncode server:\n{_tail(code_log)}\n"
                            f"dagster asset materialize:\n{_tail(shell_log)}")
            time.sleep(1)
        assert shell.wait(timeout=60) == 0, _tail(shell_log)
        timelines = {"a": host_a.timeline(), "b": host_b.timeline()}
        ui_run = launched["run"]["runId"]
        picture = _graphql(web_url, TIMELINE, {"key": {"path": keys[-1]}, "wave": gamma_waves[0]})
        runs = instance.get_run_records()

    for p in done.values():
        assert (p.not_admitted, p.admitted, p.finished) == (0, POSTINGS, POSTINGS), p.as_dict()
    assert {r.dagster_run.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    urls = {"a": host_a.url, "b": host_b.url}
    by_job: dict[str, list[tuple[float, float]]] = {"alpha": [], "beta": []}
    calls_by_host: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    runs_by_host: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}  # from launch to end
    gamma_runs = []
    for r in runs:
        run = r.dagster_run
        workflow = run.job_name if run.job_name in by_job else "gamma"
        assert run.run_op_concurrency.all_pools == {POOL_PREFIX + normalize_host(urls[HOSTS[workflow]])}
        if workflow == "gamma":
            assert run.job_name == "__ASSET_JOB"  # the UI's and the shell's run: the implicit asset job
            gamma_runs.append(run.run_id)
        else:
            assert run.tags.get("dagster/sensor_name") == f"{run.job_name}_new_postings"
            by_job[run.job_name].append((_launched_at(instance, run.run_id), r.end_time))
        # the shell's run is in-process: it has no RUN_STARTING, its start is when it began
        started = [e.timestamp for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_STARTING)]
        runs_by_host[HOSTS[workflow]].append((started[0] if started else r.start_time, r.end_time))
        # the run's own calls, as its steps recorded them (wall clock): from its first chat to its last answer
        calls = [c for e in run_events(engine, plans[workflow], run.run_id) for c in e["calls"]]
        calls_by_host[HOSTS[workflow]].append((min(c["start"] for c in calls), max(c["end"] for c in calls)))
    assert ui_run in gamma_runs and len(gamma_runs) == 2
    for name, spans in by_job.items():
        assert len(spans) == 2, by_job  # two waves each, a run each
        assert not _overlaps(*spans), f"{name}: two runs drove its host at once: {spans}"
    # the hosts worked at once: host a's queue (gamma's runs, then alpha's) never held host b's runs back.
    # Host a's four runs, not alpha's alone: on a loaded machine beta's runs may be done before alpha's start
    assert any(_overlaps(a, b) for a in runs_by_host["a"] for b in runs_by_host["b"]), runs_by_host
    spans = sorted(calls_by_host["a"])
    assert len(spans) == 4 and all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), (
        f"two runs on host a asked at once: {spans}")
    for host, timeline in timelines.items():
        mine = [m for name, models in MODELS.items() if HOSTS[name] == host for m in models]
        assert set(timeline["counts"]["requests"]) == set(mine), timeline["counts"]
        assert sum(timeline["counts"]["requests"].values()) == len(mine) * POSTINGS
        assert not _mixed_model_overlaps(timeline), f"host {host} ran two models at once"
    (mat,) = picture["assetOrError"]["assetMaterializations"]
    shown = {e["label"]: e.get("mdStr") for e in mat["metadataEntries"]}
    assert mat["runId"] == ui_run
    assert shown["gpu_timeline"].startswith(f"![GPU timeline: gamma, run {ui_run[:8]}, wave(s) {gamma_waves[0]}")
    instance.dispose()
    dispose_all()
