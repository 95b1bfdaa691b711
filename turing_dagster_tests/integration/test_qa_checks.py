"""QA asset checks over HTTP to the simulator: planted bad outputs fail each check, good outputs pass."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from turing_dagster.cli.qa_cmd import qa
from turing_dagster.steps.qa import ERROR, OK, WARN, evaluate_workflow
from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import forget_waves, make_postings, rows, run, workflow

CHAT_WORKFLOWS = Path(__file__).resolve().parent / "chat_workflows"
PLANTED = {
    # a summary with pay, an address and a URL the posting never gave (p002: warehouse associate)
    "ID: p002\nSummarise": "Warehouse associate. Pay: $95,000 a year. Apply at jobs@acme.example or https://acme.example/apply",
    # skills the nurse posting does not ask for
    "ID: p001\nList the skills": '{"skills": ["Patient care", "Quantum computing", "Brain surgery"]}',
    "ID: p003\nRepeat": "",  # an empty answer where nothing forbids it
    "ID: p004\nRepeat": "Repeat: {summary} for {posting.job_title}",  # a template hole, as if never rendered
}


@pytest.fixture
def qaflow(monkeypatch, instance, sim):
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(CHAT_WORKFLOWS))
    forget_waves(instance, "qaflow")
    yield instance
    sim.set_answers({})


def _evaluations(instance) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """(asset name, check name) -> the check's latest evaluation, read back from the Dagster instance."""
    found = {}
    for record in instance.get_run_records():
        for entry in instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = entry.dagster_event.event_specific_data
            assert evaluation.asset_key.path[0] == "qaflow"  # the workflow's own conversation assets
            found[(evaluation.asset_key.path[-1], evaluation.check_name)] = evaluation
    return found


def _by_check(findings):
    return {(f.asset, f.check): f for f in findings}


def test_planted_bad_outputs_fail_their_checks_in_dagster_and_turing_qa(engine, qaflow, sim):
    make_postings(engine, 7)
    sim.set_answers(PLANTED)
    report = run(engine, qaflow, name="qaflow")
    assert report.ok, report.failures  # a failing check is a finding, not a failed run
    evaluations = _evaluations(qaflow)
    expected = {
        ("02_summary", "facts_in_posting"): ERROR,
        ("03_skills", "grounded_items"): WARN,
        ("04_echo", "no_empty_output"): ERROR,
        ("04_echo", "no_template_holes"): ERROR,
    }
    for (asset, check), severity in expected.items():
        evaluation = evaluations[(asset, check)]
        assert not evaluation.passed and evaluation.severity.value == severity, (asset, check)
    # every other check of every conversation ran and passed
    others = {k: e.passed for k, e in evaluations.items() if k not in expected}
    assert others and all(others.values()), others
    assert ("03_skills", "valid_json") in others and ("01_clean", "no_empty_output") in others

    facts = evaluations[("02_summary", "facts_in_posting")].metadata
    assert facts["offending"].value == 3 and facts["waves"].value == "w000001"
    listed = facts["offenders"].value
    assert "`p002`" in listed and "jobs@acme.example" in listed and "$95,000" in listed
    skills = evaluations[("03_skills", "grounded_items")].metadata
    assert skills["offending"].value == 2 and "Quantum computing" in skills["offenders"].value
    assert skills["warn_above"].value == 0.0 and skills["error_above"].value == 0.5
    assert "`p004`" in evaluations[("04_echo", "no_template_holes")].metadata["offenders"].value

    # the terminal shows the same findings
    out = CliRunner().invoke(qa, ["qaflow", "--wave", "w000001"])
    assert out.exit_code == 0, out.output
    assert "ERROR  02_summary" in out.output and "p002: email 'jobs@acme.example' not in the posting" in out.output
    assert "WARN   03_skills" in out.output and "p001: 'Brain surgery' not in the posting" in out.output
    rows = json.loads(CliRunner().invoke(qa, ["qaflow", "--json"]).output)
    assert {(r["conversation"], r["check"]) for r in rows if r["severity"] != OK} == {
        ("summary", "facts_in_posting"), ("skills", "grounded_items"), ("echo", "no_empty_output"),
        ("echo", "no_template_holes"),
    }
    unknown = CliRunner().invoke(qa, ["qaflow", "--wave", "w9"])
    assert unknown.exit_code != 0 and "no wave 'w9' in workflow qaflow" in unknown.output


def test_good_outputs_pass_every_check_and_invalid_json_is_caught(engine, qaflow, sim):
    make_postings(engine, 7)
    report = run(engine, qaflow, name="qaflow", wave_size=4)
    assert report.ok and report.ranges == [("w000001", "w000002")]  # two waves, one run
    evaluations = _evaluations(qaflow)
    assert len(evaluations) == 2 + 4 + 5 + 3  # holes and empty everywhere, fits_context for the LLM steps; facts,
    # json and grounded where asked
    assert all(e.passed for e in evaluations.values()), {k: e.metadata for k, e in evaluations.items() if not e.passed}
    assert {e.metadata["waves"].value for e in evaluations.values()} == {"w000001, w000002"}
    assert evaluations[("01_clean", "no_empty_output")].metadata["checked"].value == 7
    # the engine never completes invalid JSON, so plant a row as an older engine or a manual fix could leave it
    plan = WorkflowPlan(workflow("qaflow"))
    step = plan.by_name["skills"]
    wave = next(r.wave_key for r in rows(engine, 9302) if r.posting_id == "p004")
    write_chunk(engine, 9302, [Checkpoint("p004", 93103, "completed", "skills: SQL", None, step.version, wave)])
    findings = _by_check(evaluate_workflow(engine, plan))
    bad = findings[("03_skills", "valid_json")]
    assert bad.severity == ERROR and bad.offenders[0][0] == "p004" and "not valid JSON" in bad.offenders[0][1]
    assert [k for k, f in findings.items() if not f.passed] == [("03_skills", "valid_json")]
