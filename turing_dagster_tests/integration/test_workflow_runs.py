"""Whole workflows through Dagster over HTTP to the simulator, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import ollama
import pytest

from turing_dagster.steps.progress import progress
from turing_dagster.store.schema import postings
from turing_dagster.store.standing import Scope
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import (
    assert_routed_by_rules,
    edit_workflows,
    llm_calls,
    make_postings,
    minimal_loads,
    rows,
    run,
    workflow,
)

pytestmark = pytest.mark.usefixtures("workflows_dir")


def _loads(sim) -> int:
    return sum(sim.timeline()["counts"]["loads"].values())


def test_branching_workflow_routes_every_posting_by_its_rules(engine, instance, sim):
    ids = make_postings(engine, 30)
    report = run(engine, instance)
    assert report.ok, report.failures
    plan = WorkflowPlan(workflow())
    assert_routed_by_rules(plan, engine, ids)
    by_status = {}
    for r in rows(engine):
        by_status.setdefault(r.conversation_id, set()).add(r.status)
    # the test data takes every branch: END after clean, FAIL -> improve, both order-6 alternatives
    assert {"completed", "skipped"} <= by_status[904] and {"completed", "skipped"} <= by_status[906]
    assert "completed" in by_status[907]
    # save_to wrote the picked summary back into postings
    with engine.connect() as conn:
        saved = dict(conn.execute(postings.select().with_only_columns(postings.c.posting_id, postings.c.extracted_summary)).all())
    picks = {r.posting_id: r.output for r in rows(engine) if r.conversation_id == 905 and r.status == "completed"}
    assert picks and all(saved[pid] == out for pid, out in picks.items())
    done = progress(engine, plan)
    assert done.finished == len(ids) and sum(s.pending for s in done.steps) == 0


def test_model_loads_are_the_plan_minimum_single_and_multi_wave(engine, instance, sim):
    make_postings(engine, 40)
    report = run(engine, instance, wave_size=15)  # three waves, one contiguous range, one run
    assert report.ok and report.ranges == [("w000001", "w000003")]
    plan = WorkflowPlan(workflow())
    # order 6 has two conversations on different models; the plan keeps each model's steps together
    assert _loads(sim) == minimal_loads(plan, engine) == 5
    for event in sim.timeline()["events"]:
        assert event["type"] != "load" or event.get("model")
    # a second, single-wave run on new postings: again the minimum, counted from this run only; the
    # one-model server still holds the last model of the first run (shared residency left it)
    [resident] = [m.model for m in ollama.Client(host=sim.url).ps().models]
    before_loads, last = _loads(sim), max(r.checkpoint_id for r in rows(engine))
    make_postings(engine, 12, prefix="q")
    assert run(engine, instance).ranges == [("w000004", "w000004")]
    assert _loads(sim) - before_loads == minimal_loads(plan, engine, since_checkpoint=last, resident=resident)


def test_no_prompt_carries_an_unresolved_placeholder(engine, instance, sim):
    ids = make_postings(engine, 14)
    assert run(engine, instance).ok
    texts = {}
    for r in rows(engine):
        if r.conversation_id == 901:
            texts[r.posting_id] = r.output
    template_holes = re.compile(r"\{(clean|summarize|grade|improve|pick|posting\.[a-z_]+(\|[a-z_.]+)*)\}")
    seen = 0
    for body in sim.requests():
        for message in body.get("messages", []):
            content = message["content"]
            for pid in ids:  # the posting's own text may contain braces; it is not a template
                content = content.replace(texts.get(pid) or "\0", "")
            assert not template_holes.search(content), content
            seen += 1
    assert seen > 0
    assert any("{posting.job_title}" in (t or "") for t in texts.values())  # such a posting did go through


def test_rerunning_the_same_wave_makes_no_llm_call(engine, instance, sim):
    make_postings(engine, 10)
    assert run(engine, instance).ok
    calls = sum(llm_calls(sim).values())
    assert calls > 0
    report = run(engine, instance)
    assert report.ranges == []
    from turing_dagster.definitions import build_definitions

    result = build_definitions().resolve_job_def("branchy").execute_in_process(instance=instance, partition_key="w000001")
    assert result.success
    assert sum(llm_calls(sim).values()) == calls
    assert _loads(sim) == minimal_loads(WorkflowPlan(workflow()), engine)


def test_an_edited_prompt_leaves_results_stale_until_asked_then_redoes_only_that_step(
        engine, instance, sim, tmp_path, monkeypatch, workflows_dir):
    ids = make_postings(engine, 12)
    assert run(engine, instance).ok
    edit_workflows(workflows_dir, tmp_path / "wf", monkeypatch, "Grade the summary.", "Grade the summary strictly.")
    before = {s.step: s for s in progress(engine, WorkflowPlan(workflow())).steps}
    # status tells the truth before any run: every graded result is stale, nothing is pending; a skip of
    # grade decided by an earlier step stays current (the edit changes nothing for that posting there)
    graded = {r.posting_id for r in rows(engine) if r.conversation_id == 903 and r.status == "completed"}
    assert before["03_grade"].stale == len(graded) and before["03_grade"].skipped == len(ids) - len(graded)
    # stale postings: those with a result at grade or after it (their later versions include grade's)
    later = {s.conversation.conversation_id for s in WorkflowPlan(workflow()).steps[2:]}
    affected = {r.posting_id for r in rows(engine) if r.conversation_id in later and r.status == "completed"}
    assert before["03_grade"].completed == 0 and before["02_summarize"].stale == 0
    assert sum(s.pending for s in before.values()) == 0
    sim.reset()
    plain = run(engine, instance)  # a plain run never re-processes history on its own, and says so
    assert plain.ok and plain.ranges == [] and sim.requests() == [] and plain.stale == len(affected)
    report = run(engine, instance, scope=Scope(stale=True))
    assert report.ok and report.ranges == [("w000001", "w000001")]
    prompts = [m["content"] for b in sim.requests() for m in b.get("messages", [])]
    assert not any("Summarise this posting" in p for p in prompts)  # the step before the edit: untouched
    regraded = {re.search(r"ID: (\S+)", p).group(1) for p in prompts if "Grade the summary strictly" in p}
    summarized = {r.posting_id for r in rows(engine) if r.conversation_id == 902 and r.status == "completed"}
    assert regraded == summarized and regraded
    assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)
    after = progress(engine, WorkflowPlan(workflow()))
    assert sum(s.stale + s.pending for s in after.steps) == 0 and after.stale_postings == 0


def test_a_missing_model_fails_the_run_with_one_line_before_any_posting(engine, instance, sim, tmp_path, monkeypatch, workflows_dir):
    edit_workflows(workflows_dir, tmp_path / "wf", monkeypatch, "actor: gemma3:4b\n    system", "actor: nosuchmodel:1b\n    system")
    make_postings(engine, 6)
    report = run(engine, instance)
    assert not report.ok
    assert any("model 'nosuchmodel:1b' not found on " + sim.url in line for line in report.failures), report.failures
    assert not [r for r in rows(engine) if r.conversation_id == 902]
    assert sum(llm_calls(sim).values()) == 0


def test_a_prompt_with_a_missing_field_fails_that_posting_and_is_never_sent(engine, instance, sim, tmp_path, monkeypatch, workflows_dir):
    edit_workflows(
        workflows_dir, tmp_path / "wf", monkeypatch, "Summarise this posting: {clean}", "Summarise this {posting.team} posting: {clean}"
    )
    make_postings(engine, 8)
    from turing_dagster.store.postings import upsert_postings

    upsert_postings(engine, [{"posting_id": "teamed", "job_title": "x", "job_description": TEXT, "extra": {"team": "data"}}])
    report = run(engine, instance)
    assert report.ok  # per-posting failures are counted, not fatal
    summarize = {r.posting_id: r for r in rows(engine) if r.conversation_id == 902}
    assert summarize["teamed"].status == "completed"
    failed = {pid: r for pid, r in summarize.items() if r.status == "failed"}
    assert failed and all(r.error == "unresolved placeholder {posting.team}; prompt not sent" for r in failed.values())
    assert all(r.state_snapshot["current_conversation_id"] == 902 for r in failed.values())
    asked = {pid for (_, pid) in llm_calls(sim)}
    assert asked == {"teamed"} and report.steps["02_summarize"]["failed"] == len(failed)


TEXT = "Data engineer for our analytics team: Python, SQL, and dbt experience needed."


def test_a_server_that_dies_fails_the_run_and_a_plain_rerun_finishes(engine, instance, sim):
    from turing_dagster.simulator import FaultConfig

    ids = make_postings(engine, 20)
    sim.set_faults(FaultConfig(die_after=12))  # dies inside the first LLM step
    report = run(engine, instance)
    assert not report.ok
    assert any(("stopped answering" in line or "Ollama is not reachable at " + sim.url in line)
               for line in report.failures), report.failures
    assert any(r.status == "failed" for r in rows(engine))  # requests in flight when it died
    sim.set_faults(FaultConfig())
    sim.reset()  # the server is back
    report = run(engine, instance)
    assert report.ok and report.ranges == [("w000001", "w000001")]
    assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)


def test_the_plan_before_admission_counts_what_the_run_then_asks(engine, instance, sim):
    from turing_dagster.cli.plan_cmd import run_preview

    make_postings(engine, 12)  # loaded, not in a wave yet
    preview, _ = run_preview(engine, workflow(), Scope())
    assert preview.postings == 12
    report = run(engine, instance)
    assert report.ok
    made = {name: counts["calls"] for name, counts in report.steps.items()}
    planned = {s.step: (s.calls, s.calls_exact) for s in preview.steps}
    assert planned["02_summarize"] == (made["02_summarize"], True) and made["02_summarize"] > 0
    assert all(calls >= made[step] and (calls == made[step] or not exact) for step, (calls, exact) in planned.items())


def test_a_conversations_retries_bound_its_transient_attempts(engine, instance, sim, workflows_dir, tmp_path, monkeypatch):
    from turing_dagster.simulator import FaultConfig

    edit_workflows(workflows_dir, tmp_path / "defs", monkeypatch, "retries: 1", "retries: 2")
    make_postings(engine, 6)
    # resident with the workflow's context: the step loads nothing
    ollama.Client(host=sim.url).generate(model="gemma3:4b", prompt="", options={"num_ctx": 2048})
    sim.set_faults(FaultConfig(error_503_rate=1.0))  # then every chat fails
    report = run(engine, instance)
    assert report.ok  # a few 503s in a row are not yet a server gone (GONE_AFTER): held, for the next run
    asked = llm_calls(sim)
    assert asked and set(asked.values()) == {3}, asked  # retries: 2 -> three attempts each, not max_attempts (4)
    held = [r for r in rows(engine) if r.status == "failed"]
    assert len(held) == len(asked) and all(r.state_snapshot["retryable"] for r in held)


def test_a_run_of_the_servers_failures_fails_the_run_and_a_few_do_not(engine, instance, sim):
    from turing_dagster.simulator import FaultConfig
    from turing_dagster.steps.llm_side import GONE_AFTER

    make_postings(engine, GONE_AFTER + 4)
    # resident with the workflow's context: the step loads nothing; then every chat fails
    ollama.Client(host=sim.url).generate(model="gemma3:4b", prompt="", options={"num_ctx": 2048})
    sim.set_faults(FaultConfig(error_503_rate=1.0))
    report = run(engine, instance)
    assert not report.ok and any(f"stopped answering ({n} requests in a row failed" in line
                                 for line in report.failures for n in range(GONE_AFTER, GONE_AFTER + 5)), report.failures


def test_exclusive_residency_leaves_no_model_loaded_after_a_run(engine, instance, sim, monkeypatch):
    monkeypatch.setenv("TURING_OLLAMA_RESIDENCY", "exclusive")
    make_postings(engine, 9)
    assert run(engine, instance).ok
    assert ollama.Client(host=sim.url).ps().models == []
    counts = sim.timeline()["counts"]
    assert sum(counts["unloads"].values()) == sum(counts["loads"].values())


def test_shared_residency_leaves_the_last_model_to_its_keep_alive(engine, instance, sim):
    make_postings(engine, 9)
    assert run(engine, instance).ok
    resident = ollama.Client(host=sim.url).ps().models
    assert len(resident) == 1  # the simulator holds one model: the run's last
    counts = sim.timeline()["counts"]
    # every unload was the server's own eviction to make room, none an explicit keep_alive=0
    assert sum(counts["unloads"].values()) == sum(counts["loads"].values()) - 1
    assert not [b for b in sim.requests() if b.get("keep_alive") in (0, "0")]
