"""One bad answer fails one posting: an answer the store cannot hold (a lone surrogate, a NUL) fails that posting's
step, named, the rest of its chunk commits, and a rerun asks nothing again. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from turing_dagster.steps.progress import progress
from turing_dagster.store.checkpoints import Checkpoint, PostingRows, write_rows
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import llm_calls, make_postings, rows, run, workflow

pytestmark = pytest.mark.usefixtures("workflows_dir")


@pytest.mark.parametrize("bad", ["Summary with a \udcff in it", "Summary with a \x00 in it"], ids=["surrogate", "nul"])
def test_an_answer_the_store_cannot_hold_fails_only_its_posting(engine, instance, sim, bad):
    ids = make_postings(engine, 20)
    sim.set_answers({"ID: p002\nTitle": bad})
    report = run(engine, instance)
    assert report.ok, report.failures  # the run succeeds; the failure is counted and named
    assert report.steps["02_summarize"]["failed"] == 1
    found = {r.posting_id: r for r in rows(engine) if r.conversation_id == 902}
    assert found["p002"].status == "failed" and found["p002"].output is None
    assert found["p002"].error.startswith("the answer cannot be stored: answer contains ")
    assert found["p002"].state_snapshot["retryable"] is False
    p = progress(engine, WorkflowPlan(workflow()))
    assert p.finished == len(ids) - 1  # every other posting reached the end in this first run
    sim.reset()
    again = run(engine, instance)
    assert again.ok and sum(llm_calls(sim).values()) == 0  # a second run asks nothing
    sim.set_answers({})


def test_a_chunk_write_failing_for_one_row_is_narrowed_to_that_row(engine):
    make_postings(engine, 6)
    good = [PostingRows(Checkpoint(f"p00{i}", 902, "completed", "ok", None, "v", "w1")) for i in range(5)]
    # a posting the database does not have: the foreign key refuses that row, and only that row
    orphan = PostingRows(Checkpoint("nobody", 902, "completed", "ok", None, "v", "w1"))
    written, bad = write_rows(engine, 9001, [*good[:2], orphan, *good[2:]])
    assert written == 5 and [r.checkpoint.posting_id for r, _ in bad] == ["nobody"]
    assert bad[0][1]  # the database's own reason, one line
    assert {r.posting_id for r in rows(engine)} == {f"p00{i}" for i in range(5)}


def test_an_invalid_answer_is_not_kept_so_a_retry_asks_the_model_again(engine, instance, sim):
    import sqlalchemy as sa

    from turing_dagster.store.schema import llm_answers
    from turing_dagster.store.standing import Scope

    make_postings(engine, 6)
    sim.set_answers({"ID: p002\nTitle": "   "})  # fails summarize's validate (\S), and so does every re-ask
    report = run(engine, instance)
    assert report.ok and report.steps["02_summarize"]["failed"] == 1
    failed = next(r for r in rows(engine) if r.conversation_id == 902 and r.posting_id == "p002")
    assert failed.status == "failed" and failed.error.startswith("invalid output after 2 attempts")
    with engine.connect() as conn:
        kept = conn.execute(sa.select(llm_answers.c.output)).scalars().all()
    assert kept and "   " not in kept  # the good answers are kept for their keys; none of the invalid ones
    sim.set_answers({})
    sim.reset()
    again = run(engine, instance, scope=Scope(failed=True))  # --retry-failed: the model is asked again
    assert again.ok and llm_calls(sim)[("gemma3:4b", "p002")] >= 1
    done = next(r for r in rows(engine) if r.conversation_id == 902 and r.posting_id == "p002")
    assert done.status == "completed" and done.output.strip()
