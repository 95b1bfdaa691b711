"""Conversations sharing an execution order run resident models first, and keep the plan's checkpoints."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.steps.progress import progress, step_versions
from turing_dagster.store.standing import State, wave_standings
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import forget_waves, make_postings, rows, run, workflow
from turing_dagster_tests.integration.test_ollama_resource import manager

SIBLING_WORKFLOWS = Path(__file__).resolve().parent / "sibling_workflows"
CLEAN, GEMMA, QWEN, WRAP = 941, 942, 943, 944


@pytest.fixture
def one_model_server(monkeypatch, instance):
    """A server that holds one model at a time (a small GPU), shared residency (the default)."""
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(SIBLING_WORKFLOWS))
    forget_waves(instance, "siblings")
    profile = ModelProfile(load_seconds=0.02, request_seconds=0.002, token_seconds=0.0)
    with start_simulator(SimulatorConfig(default_profile=profile, parallel=4, max_loaded_models=1), port=0) as sim:
        monkeypatch.setenv("OLLAMA_HOST", sim.url)
        yield sim


def _chat_models(sim) -> list[str]:
    return [b["model"].split(":")[0] for b in sim.requests() if b.get("messages")]


def _loads(sim) -> int:
    return sum(sim.timeline()["counts"]["loads"].values())


@pytest.mark.parametrize(
    ("db_url", "resident"),
    [("sqlite", None), ("sqlite", "qwen2.5"), pytest.param("postgres", "qwen2.5", marks=pytest.mark.postgres)],
    indirect=["db_url"],
)
def test_the_resident_sibling_goes_first_and_every_posting_gets_one_row_per_conversation(
    engine, instance, one_model_server, resident
):
    sim = one_model_server
    plan = WorkflowPlan(workflow("siblings"))
    assert [s.conversation.name for s in plan.steps] == ["clean", "ask_gemma", "ask_qwen", "wrap"]
    if resident:  # left by an earlier run's keep_alive
        manager(sim.url).session(resident).load()
    loads_before = _loads(sim)
    ids = make_postings(engine, 14)
    report = run(engine, instance, name="siblings")
    assert report.ok, report.failures

    chats = _chat_models(sim)
    loads = _loads(sim) - loads_before
    if resident:  # qwen2.5 first on the model the server holds: one load (gemma2) instead of two
        assert chats[0] == "qwen2.5" and chats[-1] == "gemma2" and loads == 1
    else:  # nothing resident: the plan's order, one load per model
        assert chats[0] == "gemma2" and chats[-1] == "qwen2.5" and loads == 2
    assert chats == sorted(chats, key=chats.index)  # no model swapped back in

    found = rows(engine, 9401)
    per = Counter((r.posting_id, r.conversation_id) for r in found)
    assert set(per.values()) == {1} and len(per) == len(ids) * 4  # one row per posting and conversation
    status = {(r.posting_id, r.conversation_id): r.status for r in found}
    to_qwen = {r.posting_id for r in found if r.conversation_id == CLEAN and r.state_snapshot["current_conversation_id"] == QWEN}
    to_gemma = {r.posting_id for r in found if r.conversation_id == CLEAN and r.state_snapshot["current_conversation_id"] == GEMMA}
    assert to_qwen and to_gemma
    for pid in ids:
        assert status[(pid, QWEN)] == ("completed" if pid in to_qwen else "skipped")
        assert status[(pid, GEMMA)] == ("completed" if pid in to_gemma else "skipped")
        assert status[(pid, WRAP)] == ("completed" if pid in to_qwen | to_gemma else "skipped")
    assert Counter(chats) == Counter({"qwen2.5": len(to_qwen), "gemma2": len(to_gemma)})  # each asked once
    done = progress(engine, plan)
    assert done.finished == len(ids) and sum(s.pending for s in done.steps) == 0
    standings = [s for w in wave_keys(engine, 9401) for s in wave_standings(engine, 9401, step_versions(plan), w).values()]
    assert len(standings) == len(ids) and {s.state for s in standings} == {State.DONE}
