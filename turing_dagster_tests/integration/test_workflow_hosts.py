"""A workflow pointed at its own Ollama hosts (TURING_OLLAMA_HOSTS_<NAME>) runs there, whatever launches the run:
`turing run` (the workflow's job) and Dagster's implicit asset job (the UI's Materialize, backfills)."""

from __future__ import annotations

import pytest

from turing_dagster.dagster_defs.run_hosts import POOL_PREFIX
from turing_dagster.definitions import build_definitions
from turing_dagster.settings import normalize_host
from turing_dagster.store.waves import admit
from turing_dagster_tests.integration.helpers import llm_calls, make_postings, run

pytestmark = pytest.mark.usefixtures("workflows_dir")


@pytest.fixture
def own_host(sim, monkeypatch):
    # the shared host is closed: only the workflow's own setting can reach the simulator
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    monkeypatch.delenv("TURING_OLLAMA_HOSTS", raising=False)
    monkeypatch.setenv("TURING_OLLAMA_HOSTS_BRANCHY", sim.url)
    return sim


def test_turing_run_drives_the_workflows_own_hosts(engine, instance, own_host):
    make_postings(engine, 6)
    report = run(engine, instance)
    assert report.ok, report.failures
    assert sum(llm_calls(own_host).values()) > 0
    run_ = instance.get_run_by_id(report.run_ids[0])
    assert run_.run_op_concurrency.all_pools == {POOL_PREFIX + normalize_host(own_host.url)}


def test_the_implicit_asset_job_drives_them_too(engine, instance, own_host):
    make_postings(engine, 6)
    (wave,) = admit(engine, 9001, 100)
    instance.add_dynamic_partitions("branchy_waves", [wave.key])
    defs = build_definitions()
    job = defs.resolve_implicit_global_asset_job_def()  # what the UI's Materialize launches
    selection = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "branchy"]
    result = job.execute_in_process(instance=instance, partition_key=wave.key, asset_selection=selection)
    assert result.success
    assert sum(llm_calls(own_host).values()) > 0
    assert instance.get_run_by_id(result.run_id).run_op_concurrency.all_pools == {
        POOL_PREFIX + normalize_host(own_host.url)}
