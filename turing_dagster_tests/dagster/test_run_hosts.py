"""Every run of a model workflow carries the Ollama hosts it drives, for Dagster's run queue to limit on."""

from __future__ import annotations

import dagster as dg
import pytest

from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.dagster_defs.run_hosts import HOSTS_TAG, override_env
from turing_dagster.definitions import build_definitions
from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings

pytestmark = pytest.mark.usefixtures("workflows_dir")


@pytest.fixture(autouse=True)
def _no_hosts(monkeypatch):
    for name in ("OLLAMA_HOST", "TURING_OLLAMA_HOSTS", "TURING_OLLAMA_HOSTS_BRANCHY",
                 "TURING_SENSOR_INTERVAL_SECONDS", "TURING_SENSORS_RUNNING"):
        monkeypatch.delenv(name, raising=False)


def _tags(job: str = "branchy") -> dict[str, str]:
    return dict(build_definitions().resolve_job_def(job).tags)


def test_the_tag_is_the_normalised_sorted_host_list(monkeypatch):
    assert _tags()[HOSTS_TAG] == "http://127.0.0.1:11434"  # nothing set: Ollama's default
    monkeypatch.setenv("OLLAMA_HOST", "gpu-a:11500")
    assert _tags()[HOSTS_TAG] == "http://gpu-a:11500"
    # the same set in any spelling or order is the same value, so the queue sees one host set
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", " http://gpu-b:11434/, gpu-a:11500,gpu-b ")
    assert _tags()[HOSTS_TAG] == "http://gpu-a:11500,http://gpu-b:11434"


def test_a_workflow_without_a_model_step_is_not_held_by_any_host(monkeypatch):
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "gpu-a")
    assert HOSTS_TAG not in _tags("pyonly")


def test_a_workflow_pointed_at_its_own_hosts_runs_there_and_says_so(monkeypatch):
    assert override_env("branchy") == "TURING_OLLAMA_HOSTS_BRANCHY"
    assert override_env("my-flow.v2") == "TURING_OLLAMA_HOSTS_MY_FLOW_V2"
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "gpu-a")
    monkeypatch.setenv("TURING_OLLAMA_HOSTS_BRANCHY", "gpu-c:1,gpu-d:2")
    job = build_definitions().resolve_job_def("branchy")
    assert job.tags[HOSTS_TAG] == "http://gpu-c:1,http://gpu-d:2"
    config = job.get_run_config_for_partition_key("w000001")
    assert config["resources"]["ollama"]["config"]["host"] == "gpu-c:1,gpu-d:2"
    # the other workflows keep the shared hosts and their own resource config
    assert _tags("pyonly") == {"turing/workflow_id": "9002"}


def test_a_malformed_host_does_not_stop_the_definitions_loading(monkeypatch):
    # the run itself reports the bad entry; the code location must still load
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "http://gpu-a:notaport")
    assert "gpu-a" in _tags()[HOSTS_TAG]


def test_the_sensors_run_requests_carry_the_tag(monkeypatch, tmp_path):
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "gpu-b,gpu-a")
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
    assert all(r.tags[HOSTS_TAG] == "http://gpu-a:11434,http://gpu-b:11434" for r in result.run_requests)
    dispose_all()


def test_sensor_interval_and_default_status_come_from_the_environment(monkeypatch):
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (30, dg.DefaultSensorStatus.STOPPED)
    monkeypatch.setenv("TURING_SENSOR_INTERVAL_SECONDS", "2")
    monkeypatch.setenv("TURING_SENSORS_RUNNING", "1")
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    assert (sensor.minimum_interval_seconds, sensor.default_status) == (2, dg.DefaultSensorStatus.RUNNING)
