"""A change costs exactly the calls it needs: answers are found by what was asked (the request key), results of an
earlier definition wait for `--stale`, and plan, run and status agree after any sequence of edits and reverts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from turing_dagster.cli.plan_cmd import run_preview
from turing_dagster.ollama.keys import request_key
from turing_dagster.steps.progress import progress
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.standing import Scope
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import TEXTS, forget_waves, rows, run, workflow

SOURCE = Path(__file__).resolve().parent / "reuse_workflows"
WF = 9501


@pytest.fixture
def reuse(instance, sim, tmp_path, monkeypatch):
    """The reuse workflow in a folder of its own, editable by the test: edit(old, new)."""
    target = tmp_path / "wf"
    shutil.copytree(SOURCE, target)
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(target))
    forget_waves(instance, "reuse")

    def edit(old: str, new: str) -> None:
        path = target / "reuse.yaml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))

    return edit


def _postings(engine, n: int, prefix: str = "p", start: int = 0) -> list[str]:
    records = [{"posting_id": f"{prefix}{i:03d}", "job_title": f"Role {i % 7}", "job_description": TEXTS[i % len(TEXTS)]}
               for i in range(start, start + n)]
    upsert_postings(engine, records)
    return [r["posting_id"] for r in records]


def _chats(sim) -> list[dict]:
    return [b for b in sim.requests() if b.get("messages")]


def _run(engine, instance, sim, scope=None, reset=True):
    if reset:
        sim.reset()  # (which also undoes a repull)
    report = run(engine, instance, name="reuse", scope=scope)
    assert report.ok, report.failures
    return report, _chats(sim)


def _settled(engine) -> None:
    """Nothing pending, stale or failed anywhere: what a run considers done is what status shows."""
    p = progress(engine, WorkflowPlan(workflow("reuse")))
    assert (sum(s.pending + s.stale + s.failed for s in p.steps), p.stale_postings) == (0, 0), p.as_dict()


def test_a_one_word_edit_costs_the_edited_steps_calls_and_only_on_request(engine, instance, sim, reuse):
    ids = _postings(engine, 14)
    _, first = _run(engine, instance, sim)
    summarized = {r.posting_id for r in rows(engine, WF) if r.conversation_id == 95002 and r.status == "completed"}
    reuse("Summarise this posting in one line", "Summarise this posting in a single line")
    # the plan knows the edited step's calls exactly: one per distinct request (the texts repeat every 7)
    preview, _ = run_preview(engine, workflow("reuse"), Scope(stale=True))
    summarize = next(s for s in preview.steps if s.step == "02_summarize")
    distinct = len({TEXTS[int(pid[1:]) % len(TEXTS)] for pid in summarized})
    assert (summarize.calls, summarize.calls_exact) == (distinct, True)
    plain, calls = _run(engine, instance, sim)  # never re-processes history on its own; says so
    assert calls == [] and plain.ranges == [] and plain.stale == len(ids)
    stale, calls = _run(engine, instance, sim, Scope(stale=True))
    asked = [b["messages"][-1]["content"] for b in calls]
    assert len(asked) == len(set(asked)) == distinct  # exactly the needed calls: ratio 1.00
    assert all(a.startswith("Summarise this posting in a single line") for a in asked)  # later prompts unchanged
    assert stale.steps["04_grade"]["reused"] == sum(1 for r in rows(engine, WF)
                                                     if r.conversation_id == 95004 and r.status == "completed")
    _settled(engine)
    assert len(first) > len(calls)


def test_reposts_renames_reorders_reverts_and_reloads_cost_no_call(engine, instance, sim, reuse):
    _postings(engine, 7)
    _run(engine, instance, sim)
    # reposts: the same postings under new ids ask the same requests
    _postings(engine, 7, prefix="r")
    _, calls = _run(engine, instance, sim)
    assert calls == []
    # a rename changes no version: nothing stale, nothing asked
    reuse("name: summarize", "name: summary")
    reuse("      - goto: summarize", "      - goto: summary")
    reuse("{summarize}", "{summary}")
    reuse("{extra|summarize}", "{extra|summary}")
    assert progress(engine, WorkflowPlan(workflow("reuse"))).stale_postings == 0
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    assert calls == []
    # renumbered execution orders: stale by the plan's chain, re-processed for free
    reuse("execution_order: 4", "execution_order: 40")
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    assert calls == []
    # an edit re-processed, then reverted: the old answers are stored, so the revert is free too
    reuse("PASS or FAIL", "PASS/FAIL")
    _run(engine, instance, sim, Scope(stale=True))
    reuse("PASS/FAIL", "PASS or FAIL")
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    assert calls == []
    # a reload that brings a field no prompt uses: the postings start over, and ask nothing new
    records = [{"posting_id": f"p{i:03d}", "job_title": f"Role {i % 7}", "job_description": TEXTS[i % len(TEXTS)],
                "extra": {"source": "feed-2"}} for i in range(7)]
    assert upsert_postings(engine, records).changed == 7
    _, calls = _run(engine, instance, sim)
    assert calls == []
    _settled(engine)


def test_deleting_a_conversation_costs_only_the_postings_whose_route_changed(engine, instance, sim, reuse):
    sim.set_answers({"Rewrite this summary": "Summary: a detailed one."})  # so that grade's prompt shows the route
    _postings(engine, 14)
    _run(engine, instance, sim)
    detailed = {r.posting_id for r in rows(engine, WF) if r.conversation_id == 95003 and r.status == "completed"}
    assert 0 < len(detailed) < 14
    reuse("      - when: {regex: \"(?i)nurse|cardiology\"}\n        goto: extra\n", "")
    _delete_extra(reuse)
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    graded = [b["messages"][-1]["content"] for b in calls]
    # only the postings that went through `extra` ask grade again (its prompt now reads the summary)
    assert graded and all(g.startswith("Grade this summary") and "a detailed one" not in g for g in graded)
    assert len(set(graded)) == len(graded) == len({TEXTS[int(pid[1:]) % len(TEXTS)] for pid in detailed})
    _settled(engine)
    sim.set_answers({})


def _delete_extra(edit) -> None:
    edit("""  - conversation_id: 95003
    name: extra
    execution_order: 3
    actor: qwen2.5
    prompt: "Rewrite this summary with more detail:\\n{summarize}"
""", "")
    edit("{extra|summarize}", "{summarize}")


def test_try_asks_at_most_its_sample_writes_no_checkpoint_and_stale_reuses_it(engine, instance, sim, reuse):
    from turing_dagster.ollama.pool import HostPool, PoolConfig
    from turing_dagster.steps.trial import sample_postings, try_conversation

    _postings(engine, 21)
    _run(engine, instance, sim)
    reuse("Summarise this posting in one line", "Summarise this posting briefly")
    plan = WorkflowPlan(workflow("reuse"))
    before = [(r.checkpoint_id, r.code_version) for r in rows(engine, WF)]
    step = plan.by_name["summarize"]
    ids = sample_postings(engine, plan, step, 10)
    assert len(ids) == 10
    sim.reset()
    pool = HostPool(PoolConfig(host=sim.url))
    trial = try_conversation(engine, plan, step, ids, pool.session(step.model, plan.workflow.options_for("summarize")))
    pool.close()
    assert len(_chats(sim)) == trial.calls <= 10 and len(trial.compared) == 10
    assert [(r.checkpoint_id, r.code_version) for r in rows(engine, WF)] == before  # no checkpoint changed
    tried = {b["messages"][-1]["content"] for b in _chats(sim)}
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    assert not tried & {b["messages"][-1]["content"] for b in calls}  # what try asked is not asked again
    _settled(engine)


def test_an_explicit_run_then_a_revert_leaves_no_wave_stuck(engine, instance, sim, reuse):

    from turing_dagster.definitions import build_definitions

    _postings(engine, 7)
    _run(engine, instance, sim)
    reuse("Grade this summary, PASS or FAIL", "Grade this summary strictly, PASS or FAIL")
    job = build_definitions().resolve_job_def("reuse")
    assert job.execute_in_process(instance=instance, partition_key="w000001").success  # as the UI or a backfill
    _settled(engine)  # an explicit materialization re-processed the stale results
    reuse("Grade this summary strictly, PASS or FAIL", "Grade this summary, PASS or FAIL")
    p = progress(engine, WorkflowPlan(workflow("reuse")))
    assert p.stale_postings > 0  # the revert made the explicit run's results stale
    plain, calls = _run(engine, instance, sim)
    assert calls == [] and plain.stale == p.stale_postings  # the run and status agree
    _, calls = _run(engine, instance, sim, Scope(stale=True))
    assert calls == []  # the original answers were stored: the revert costs nothing
    _settled(engine)


def test_request_keys_follow_the_model_version_and_reuse_false_always_asks(engine, instance, sim, reuse):
    assert request_key("gemma2", "d1", [{"role": "user", "content": "x"}], None, {"num_ctx": 1}) != request_key(
        "gemma2", "d2", [{"role": "user", "content": "x"}], None, {"num_ctx": 1})
    assert request_key("Gemma2", "d1", [{"role": "user", "content": "x"}], None, {}) == request_key(
        "gemma2:latest", "d1", [{"role": "user", "content": "x"}], None, {"keep_alive": "5m"})
    _postings(engine, 7)
    _, first = _run(engine, instance, sim)
    sim.reset()
    sim.repull("gemma2")  # `ollama pull` of a new version: its answers are asked again
    _postings(engine, 7, prefix="r")
    _, calls = _run(engine, instance, sim, reset=False)
    assert {b["model"] for b in calls} == {"gemma2"}  # the reposts reuse every answer but the new version's
    reuse("    actor: gemma3:4b\n", "    actor: gemma3:4b\n    reuse: false\n")
    _postings(engine, 7, prefix="s")
    _, calls = _run(engine, instance, sim)
    assert sum(1 for b in calls if b["model"] == "gemma3:4b") == 6  # reuse: false asks every posting
    _postings(engine, 7, prefix="t")
    _postings(engine, 7, prefix="u")  # the same seven postings twice, in one run
    _, calls = _run(engine, instance, sim)
    assert sum(1 for b in calls if b["model"] == "gemma3:4b") == 12  # not even identical requests share a call
