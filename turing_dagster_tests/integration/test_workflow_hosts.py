"""A workflow pointed at its own Ollama hosts (TURING_OLLAMA_HOSTS_<NAME>) runs there, from `turing run`."""

from __future__ import annotations

import pytest

from turing_dagster.dagster_defs.run_hosts import HOSTS_TAG
from turing_dagster.settings import normalize_host
from turing_dagster_tests.integration.helpers import llm_calls, make_postings, run

pytestmark = pytest.mark.usefixtures("workflows_dir")


def test_turing_run_drives_the_workflows_own_hosts(engine, instance, sim, monkeypatch):
    # the shared host is closed: only the workflow's own setting can reach the simulator
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    monkeypatch.delenv("TURING_OLLAMA_HOSTS", raising=False)
    monkeypatch.setenv("TURING_OLLAMA_HOSTS_BRANCHY", sim.url)
    make_postings(engine, 6)
    report = run(engine, instance)
    assert report.ok, report.failures
    assert sum(llm_calls(sim).values()) > 0
    assert instance.get_run_by_id(report.run_ids[0]).tags[HOSTS_TAG] == normalize_host(sim.url)
