"""A prompt is never answered as if it fitted: refused before it is sent when it cannot fit num_ctx, shortened with
`overflow: shorten`, and an answer whose prompt the server cut (the simulator truncates as Ollama does) is never
stored as a result; `turing qa` shows them (fits_context)."""

from __future__ import annotations

from pathlib import Path

import pytest

from turing_dagster.simulator import FaultConfig, ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.steps.qa import WARN, evaluate_workflow
from turing_dagster.store.postings import upsert_postings
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import forget_waves, rows, run, workflow

WORKFLOWS = Path(__file__).resolve().parent / "context_workflows"
SENTENCE = "The team builds data pipelines for hospitals and reports to the head of engineering. "


@pytest.fixture
def fit(instance, monkeypatch):
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(WORKFLOWS))
    forget_waves(instance, "fit", "short", "open")
    return instance


def _postings(engine, long_chars: int = 30_000) -> None:
    """Four short postings and two 30 KB ones (about 7,500 tokens for the simulator: far past 2048)."""
    records = [{"posting_id": f"s{i}", "job_title": "t", "job_description": SENTENCE * 3} for i in range(4)]
    records += [{"posting_id": f"long{i}", "job_title": "t", "job_description": SENTENCE * (long_chars // len(SENTENCE))}
                for i in range(2)]
    upsert_postings(engine, records)


def _by_posting(engine, workflow_id: int) -> dict:
    return {r.posting_id: r for r in rows(engine, workflow_id)}


def test_a_prompt_that_cannot_fit_is_refused_before_it_is_sent(engine, fit, sim):
    _postings(engine)
    report = run(engine, fit, name="fit")
    assert report.ok, report.failures  # per-posting failures are counted, not fatal
    found = _by_posting(engine, 9601)
    assert {p for p, r in found.items() if r.status == "completed"} == {"s0", "s1", "s2", "s3"}
    for pid in ("long0", "long1"):
        r = found[pid]
        assert r.status == "failed" and r.state_snapshot["retryable"] is False
        assert r.error.startswith(f"posting {pid}: prompt of ~")
        assert "does not fit num_ctx 2048 of gemma3:4b" in r.error and "\n" not in r.error
    sent = " ".join(m["content"] for b in sim.requests() for m in b.get("messages", []))
    assert SENTENCE * 20 not in sent  # the long postings never reached the server
    (fits,) = [f for f in evaluate_workflow(engine, WorkflowPlan(workflow("fit"))) if f.check == "fits_context"]
    assert fits.severity == WARN and {pid for pid, _ in fits.offenders} == {"long0", "long1"}
    again = run(engine, fit, name="fit")  # not retryable: a plain run does not ask again
    assert again.ranges == []


def test_overflow_shorten_cuts_the_posting_at_a_sentence_until_it_fits(engine, fit, sim):
    _postings(engine)
    assert run(engine, fit, name="short").ok
    found = _by_posting(engine, 9602)
    assert all(r.status == "completed" for r in found.values()), {p: r.error for p, r in found.items()}
    cut = found["long0"].state_snapshot["shortened"]["job_description"]
    assert cut[0] > 29_000 and 0 < cut[1] < 8_000  # [characters before, after]
    sent = [m["content"] for b in sim.requests() for m in b.get("messages", []) if len(m["content"]) > 2_000]
    assert len(sent) == 1 and sent[0].rstrip().endswith("engineering.")  # one request for both, a whole sentence last
    assert all(not b.get("_sim", {}).get("truncated") for b in sim.requests())  # and it fitted
    assert "shortened" not in found["s0"].state_snapshot


@pytest.mark.parametrize("runner", ["llama-server", "go-runner"])
def test_an_answer_to_a_prompt_the_server_cut_is_never_stored(engine, fit, monkeypatch, runner):
    # a tokenizer denser than Turing's estimate: prompts it takes to fit do not, and the server cuts them
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.01, request_seconds=0.002),
                             chars_per_token=1.2, truncation=runner, faults=FaultConfig())
    with start_simulator(config, port=0) as dense:
        monkeypatch.setenv("OLLAMA_HOST", dense.url)
        _postings(engine, long_chars=4_000)  # ~1,350 tokens estimated: fits 2048; ~3,300 for the server
        assert run(engine, fit, name="fit").ok
        found = _by_posting(engine, 9601)
        truncated = {b["messages"][-1]["content"][-30:] for b in dense.requests() if b.get("_sim", {}).get("truncated")}
    assert truncated  # the server did cut them
    for pid in ("long0", "long1"):
        r = found[pid]
        assert r.status == "failed" and r.output is None and r.state_snapshot["retryable"] is False, r.error
        assert "prompt cut" in r.error and "the answer is not used" in r.error
    assert all(found[f"s{i}"].status == "completed" for i in range(4))
    (fits,) = [f for f in evaluate_workflow(engine, WorkflowPlan(workflow("fit"))) if f.check == "fits_context"]
    assert {pid for pid, _ in fits.offenders} == {"long0", "long1"}


def test_without_num_ctx_the_request_carries_the_context_the_server_runs_the_model_with(engine, fit, monkeypatch):
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.01, request_seconds=0.002), vram_gib=8)
    with start_simulator(config, port=0) as small:  # below 23 GiB Ollama defaults to 4096
        monkeypatch.setenv("OLLAMA_HOST", small.url)
        _postings(engine, long_chars=30_000)
        assert run(engine, fit, name="open").ok
        chats = [b for b in small.requests() if b.get("messages")]
    assert chats and {b["options"]["num_ctx"] for b in chats} == {4096}
    found = _by_posting(engine, 9603)
    assert found["long0"].status == "failed" and "does not fit num_ctx 4096 of gemma2" in found["long0"].error
    assert found["s0"].state_snapshot["context"]["num_ctx"] == 4096
