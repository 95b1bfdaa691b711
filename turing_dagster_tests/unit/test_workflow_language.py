"""Multi-turn `instructions`, `qa:`, look-alike placeholder warnings and actor source in code versions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from turing_dagster.cli.validate import validate
from turing_dagster.workflows.loader import load_workflow_file, validate_paths, workflow_warnings
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow
from turing_dagster.workflows.versions import code_version
from turing_dagster_tests.unit.test_validate_cases import (
    assert_reported,
    conv,
    expected_prefix,
    setter,
    write_case,
)

TURNS = [
    {"prompt": "List the skills in {extract}"},
    {"prompt": "Check {turn1} against {posting.job_description}", "format": "json",
     "validate": {"json_schema": {"type": "object", "required": ["skills"]}}},
]


def multi_turn(data: dict[str, Any]) -> None:
    improve = conv(data, "improve")
    del improve["prompt"]
    improve["instructions"] = TURNS


def with_turns(*turns: dict[str, Any]):
    def mutate(data: dict[str, Any]) -> None:
        improve = conv(data, "improve")
        del improve["prompt"]
        improve["instructions"] = list(turns)

    return mutate


BAD = [
    ("prompt_and_instructions", setter("improve", instructions=TURNS), "improve", "instructions", "not both"),
    ("empty_instructions", with_turns(), "improve", "instructions", "at least one turn"),
    ("turn_without_prompt", with_turns({"format": "json"}), "improve", "instructions[0].prompt", "required"),
    ("forward_turn", with_turns({"prompt": "a {turn2}"}, {"prompt": "b"}), "improve", "instructions[0].prompt",
     "names turn 2"),
    ("own_turn", with_turns({"prompt": "a"}, {"prompt": "b {turn2}"}), "improve", "instructions[1].prompt",
     "names turn 2, but only earlier turns"),
    ("turn_outside_instructions", setter("improve", prompt="Fix {turn1}"), "improve", "prompt",
     "unknown placeholder {turn1}"),
    ("unknown_in_turn", with_turns({"prompt": "{nothing}"}), "improve", "instructions[0].prompt",
     "unknown placeholder {nothing}"),
    ("format_beside_turns", lambda d: (multi_turn(d), conv(d, "improve").update(format="json")), "improve",
     "format", "on the turns"),
    ("python_with_turns", lambda d: conv(d, "skills").update(prompt=None, instructions=TURNS), "skills",
     "instructions", "python actor"),
    ("bad_turn_format", with_turns({"prompt": "x", "format": "yaml"}), "improve", "instructions[0].format",
     "must be 'json' or a JSON schema"),
    ("qa_bad_path", setter("grade", qa={"grounded": "$$[", "warn": 0.1}), "grade", "qa.grounded", "invalid JSON path"),
    ("qa_thresholds", setter("grade", qa={"grounded": "$.skills", "warn": 0.5, "error": 0.2}), "grade", "qa",
     "must be >= warn"),
    ("qa_unknown_key", setter("grade", qa={"grounds": "$.x"}), "grade", "qa.grounds", "did you mean 'grounded'"),
]


@pytest.mark.parametrize("case_id,mutation,conversation,field,fragment", BAD, ids=[c[0] for c in BAD])
def test_bad_instructions_and_qa_are_rejected(tmp_path: Path, case_id, mutation, conversation, field, fragment):
    path = write_case(tmp_path, case_id, mutation)
    _, errors = validate_paths([path])
    assert_reported([str(e) for e in errors], expected_prefix(path, conversation, field), fragment)


def test_instructions_load_as_turns_with_earlier_turns_and_outputs(tmp_path: Path) -> None:
    path = write_case(tmp_path, "turns", multi_turn)
    wf = load_workflow_file(path)
    improve = wf.conversation("improve")
    assert [t.prompt for t in improve.turns] == [t["prompt"] for t in TURNS]
    assert improve.turns[1].format == "json" and improve.turns[1].checks.json_schema["required"] == ["skills"]
    assert wf.placeholder_sources("improve") == {"extract"}  # {turn1} is not a conversation
    single = wf.conversation("grade").turns
    assert len(single) == 1 and single[0].prompt == "Grade {extract}" and single[0].format == "json"


def test_code_version_covers_every_turn(tmp_path: Path) -> None:
    base = load_workflow_file(write_case(tmp_path, "a", multi_turn))

    def edited(data: dict[str, Any]) -> None:
        multi_turn(data)
        conv(data, "improve")["instructions"][1]["prompt"] += " Be strict."

    other = load_workflow_file(write_case(tmp_path, "b", edited))
    assert code_version(base, "improve") != code_version(other, "improve")
    assert code_version(base, "extract") == code_version(other, "extract")


LOOKALIKES = "Fix {extract} {name|} then { extract } and {posting.} but not {\"grade\": \"PASS\"} or {1}"


def test_validate_warns_about_lookalike_placeholders_and_exits_0(tmp_path: Path) -> None:
    path = write_case(tmp_path, "looks", setter("improve", prompt=LOOKALIKES, system="Use {posting.job_title }"))
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    prompt_prefix = "warning: " + expected_prefix(path, "improve", "prompt")
    assert sorted(w.split(": ")[4].split(" ")[0] for w in warnings if w.startswith(prompt_prefix)) == sorted(
        ["{name|}", "{", "{posting.}"]
    )
    assert any(w.startswith("warning: " + expected_prefix(path, "improve", "system")) for w in warnings)
    assert len(warnings) == 4 and all("literally" in w for w in warnings)
    assert not any("grade" in w or "{1}" in w for w in warnings)  # JSON examples and digits are not flagged


def test_no_warning_for_valid_placeholders_or_json_examples(tmp_path: Path) -> None:
    wf = load_workflow_file(write_case(tmp_path, "good", multi_turn))
    assert workflow_warnings(wf) == []


ACTOR = "def act(posting, outputs):\n    return 'v1'\n"


def test_editing_a_python_actor_changes_its_and_later_code_versions(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "qa_actor_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "acts.py"
    module.write_text(ACTOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    data = {
        "workflow_id": 7, "name": "acting",
        "conversations": [
            {"conversation_id": 1, "name": "first", "execution_order": 1, "actor": "gemma2", "prompt": "x"},
            {"conversation_id": 2, "name": "act", "execution_order": 2, "actor": "python:qa_actor_pkg.acts:act"},
            {"conversation_id": 3, "name": "last", "execution_order": 3, "actor": "gemma2", "prompt": "{act}"},
        ],
    }
    before = WorkflowPlan(Workflow.model_validate(data)).steps
    module.write_text(ACTOR.replace("v1", "v2"))
    after = WorkflowPlan(Workflow.model_validate(data)).steps
    assert "qa_actor_pkg.acts" not in sys.modules  # hashed from disk, never imported
    assert [b.version == a.version for b, a in zip(before, after, strict=True)] == [True, False, False]
    wf = Workflow.model_validate(data)
    assert code_version(wf, "first") == code_version(Workflow.model_validate(data), "first")
    # a module that cannot be found still has a version: its path
    data["conversations"][1]["actor"] = "python:no_such_pkg.acts:act"
    assert code_version(Workflow.model_validate(data), "act")
