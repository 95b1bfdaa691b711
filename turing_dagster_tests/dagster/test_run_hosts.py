"""Every conversation asset of a model workflow is in the pool of the Ollama hosts it drives (whatever job runs
it), and a step resolves its hosts from its workflow, not from the job."""

from __future__ import annotations

import dagster as dg
import pytest

from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.dagster_defs.run_hosts import set_pool_limits
from turing_dagster.definitions import build_definitions
from turing_dagster.settings import workflow_hosts_var
from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.workflows.loader import load_workflows

pytestmark = pytest.mark.usefixtures("workflows_dir")


@pytest.fixture(autouse=True)
def _no_hosts(monkeypatch):
    for name in ("OLLAMA_HOST", "TURING_OLLAMA_HOSTS", "TURING_OLLAMA_HOSTS_BRANCHY",
                 "TURING_SENSOR_INTERVAL_SECONDS", "TURING_SENSORS_RUNNING"):
        monkeypatch.delenv(name, raising=False)


def _pools(workflow: str = "branchy") -> set[str | None]:
    """The pools of the workflow's steps, as the implicit asset job (the UI's Materialize) sees them."""
    defs = build_definitions()
    job = defs.resolve_implicit_global_asset_job_def()
    return {node.definition.pool for node in job.graph.node_dict.values() if node.name.startswith(workflow)}


def test_the_pool_is_the_normalised_sorted_host_list_on_every_step(monkeypatch):
    assert _pools() == {"ollama:http://127.0.0.1:11434"}  # nothing set: Ollama's default
    monkeypatch.setenv("OLLAMA_HOST", "gpu-a:11500")
    assert _pools() == {"ollama:http://gpu-a:11500"}
    # the same set in any spelling or order is the same pool, so the queue sees one host set
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", " http://gpu-b:11434/, gpu-a:11500,gpu-b ")
    assert _pools() == {"ollama:http://gpu-a:11500,http://gpu-b:11434"}


def test_a_workflow_without_a_model_step_is_in_no_pool(monkeypatch):
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "gpu-a")
    assert _pools("pyonly") == {None}


def test_a_workflow_pointed_at_its_own_hosts_runs_there_whatever_runs_it(monkeypatch):
    assert workflow_hosts_var("branchy") == "TURING_OLLAMA_HOSTS_BRANCHY"
    assert workflow_hosts_var("my-flow.v2") == "TURING_OLLAMA_HOSTS_MY_FLOW_V2"
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "gpu-a")
    monkeypatch.setenv("TURING_OLLAMA_HOSTS_BRANCHY", "gpu-c:1,gpu-d:2")
    assert _pools() == {"ollama:http://gpu-c:1,http://gpu-d:2"}
    ollama = OllamaModels()
    # the session a step asks for names its workflow: the workflow's own hosts, the shared ones for others
    assert ollama.session("gemma2", workflow="branchy")._models.hosts() == ["http://gpu-c:1", "http://gpu-d:2"]
    assert ollama.workflow_hosts("pyonly") == ["http://gpu-a:11434"]
    assert OllamaModels(host="gpu-z").workflow_hosts("branchy") == ["http://gpu-c:1", "http://gpu-d:2"]


def test_init_gives_every_pool_a_limit_of_one_run_at_run_granularity_only():
    run_granularity = {"concurrency": {"pools": {"granularity": "run"}}}
    with dg.instance_for_test(overrides=run_granularity) as instance:
        assert set_pool_limits(instance, load_workflows()) == ["ollama:http://127.0.0.1:11434"]
        assert instance.event_log_storage.get_concurrency_info("ollama:http://127.0.0.1:11434").slot_count == 1
    with dg.instance_for_test() as instance:  # Dagster's default, op granularity: a limit would hold each step
        assert set_pool_limits(instance, load_workflows()) == []
        assert instance.event_log_storage.get_concurrency_info("ollama:http://127.0.0.1:11434").slot_count == 0


def test_a_malformed_host_does_not_stop_the_definitions_loading(monkeypatch):
    # the run itself reports the bad entry; the code location must still load
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "http://gpu-a:notaport")
    (pool,) = _pools()
    assert "gpu-a" in pool and " " not in pool


def test_the_sensors_run_requests_take_new_postings_only(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = get_engine(url)
    upgrade(engine)
    upsert_postings(engine, [{"posting_id": f"p{i}", "job_title": "t", "job_description": "d" * 30, "extra": {}}
                             for i in range(3)])
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    with dg.instance_for_test() as instance, dg.build_sensor_context(
        instance=instance, resources={"store": TuringStore(database_url=url)}
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult) and result.run_requests
    assert all(r.tags["turing/scope"] == "new" and r.tags["turing/waves"] == r.partition_key
               for r in result.run_requests)
    dispose_all()


def test_sensor_interval_and_default_status_come_from_the_environment(monkeypatch):
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (30, dg.DefaultSensorStatus.STOPPED)
    monkeypatch.setenv("TURING_SENSOR_INTERVAL_SECONDS", "2")
    monkeypatch.setenv("TURING_SENSORS_RUNNING", "1")
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (2, dg.DefaultSensorStatus.RUNNING)
