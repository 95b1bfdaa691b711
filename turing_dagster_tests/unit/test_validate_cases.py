"""Malformed workflow definitions: each must be rejected with file, conversation and field named."""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from turing_dagster.cli.validate import validate
from turing_dagster.workflows.loader import (
    WorkflowValidationError,
    load_workflow_file,
    load_workflows,
    parse_workflow,
    validate_paths,
)

BASE: dict[str, Any] = {
    "workflow_id": 4001,
    "name": "grading",
    "defaults": {"options": {"temperature": 0}, "retries": 2},
    "conversations": [
        {
            "conversation_id": 1,
            "name": "extract",
            "execution_order": 1,
            "actor": "gemma3:4b",
            "system": "You summarise job postings.",
            "prompt": 'Summarise {posting.job_description}. Answer like {"grade": "PASS"}',
            "next": [{"when": {"contains": "[NO_CONTENT]"}, "goto": "END"}, {"goto": "grade"}],
        },
        {
            "conversation_id": 2,
            "name": "grade",
            "execution_order": 2,
            "actor": "gemma2",
            "prompt": "Grade {extract}",
            "format": "json",
            "next": [{"when": {"json": {"path": "$.grade", "equals": "FAIL"}}, "goto": "improve"}, {"goto": "skills"}],
        },
        {"conversation_id": 3, "name": "improve", "execution_order": 3, "actor": "qwen2.5", "prompt": "Fix {extract}"},
        {
            "conversation_id": 4,
            "name": "skills",
            "execution_order": 4,
            "actor": "python:turing_dagster.actors.postings:detect_language",
            "prompt": "{improve|extract}",
            "save_to": "skills",
        },
    ],
}

Mutation = Callable[[dict[str, Any]], Any]


def conv(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["conversations"] if c["name"] == name)


def setter(target: str, /, **fields: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        conv(data, target).update(fields)

    return mutate


def top(**fields: Any) -> Mutation:
    return lambda data: data.update(fields)


def drop(name: str, key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del conv(data, name)[key]

    return mutate


def raw(text: str) -> Mutation:
    return lambda data: text


def add(**fields: Any) -> Mutation:
    return lambda data: data["conversations"].append(fields)


# (case id, mutation, conversation or None for workflow-level, field, message fragment)
CASES: list[tuple[str, Mutation, str | None, str, str]] = [
    ("yaml_syntax", raw("workflow_id: 1\nconversations: [\n"), None, "yaml", "line"),
    ("top_level_list", raw("- 1\n- 2\n"), None, "file", "must be a mapping"),
    ("empty_file", raw(""), None, "file", "empty"),
    ("yaml_duplicate_key", raw("workflow_id: 1\nworkflow_id: 2\n"), None, "yaml", "duplicate key 'workflow_id'"),
    ("missing_workflow_id", lambda d: d.pop("workflow_id"), None, "workflow_id", "required"),
    ("workflow_name_pattern", top(name="Grading-1"), None, "name", "[a-z][a-z0-9_]*"),
    ("unknown_top_key", top(colour="red"), None, "colour", "unknown key"),
    ("conversations_empty", top(conversations=[]), None, "conversations", "must not be empty"),
    ("conversations_not_list", top(conversations={"a": 1}), None, "conversations", "must be a list"),
    ("waves_sizes", top(waves={"min_size": 10, "max_size": 5}), None, "waves.max_size", "min_size"),
    ("defaults_retries", top(defaults={"retries": -1}), None, "defaults.retries", ">= 0"),
    ("conversation_not_mapping", lambda d: d["conversations"].append("oops"), "#5", "(conversation)", "mapping"),
    ("missing_actor", drop("improve", "actor"), "improve", "actor", "required"),
    ("conversation_name_pattern", setter("improve", name="Improve"), "Improve", "name", "[a-z][a-z0-9_]*"),
    ("unknown_conversation_key", setter("improve", nxt="skills"), "improve", "nxt", "did you mean 'next'"),
    ("unknown_nested_key", setter("improve", next=[{"when": {"containz": "x"}, "goto": "END"}]),
     "improve", "next[0].when.containz", "unknown key"),
    ("execution_order_negative", setter("extract", execution_order=-1), "extract", "execution_order", ">= 0"),
    ("execution_order_type", setter("improve", execution_order="three"), "improve", "execution_order", "integer"),
    ("retries_negative", setter("grade", retries=-2), "grade", "retries", ">= 0"),
    ("num_ctx_negative", setter("grade", options={"num_ctx": -5}), "grade", "options",
     "num_ctx must be a whole number >= 1, got -5"),
    ("num_predict_text", setter("grade", options={"num_predict": "lots"}), "grade", "options",
     "num_predict must be a whole number >= -2, got 'lots'"),
    ("actor_with_space", setter("grade", actor="gemma 2"), "grade", "actor", "malformed actor"),
    ("python_actor_malformed", setter("skills", actor="python:turing_dagster.skills"), "skills", "actor", "python:"),
    ("llm_without_prompt", drop("improve", "prompt"), "improve", "prompt", "required for an LLM"),
    ("unknown_placeholder", setter("improve", prompt="Fix {extrakt}"), "improve", "prompt",
     "unknown placeholder {extrakt}"),
    ("unknown_dotted_placeholder", setter("improve", prompt="{postings.job_title}"), "improve", "prompt",
     "unknown placeholder {postings.job_title}"),
    ("placeholder_in_system", setter("grade", system="Context: {nothing}"), "grade", "system", "unknown placeholder"),
    ("placeholder_not_on_every_path", setter("skills", prompt="{improve}"), "skills", "prompt",
     "extract -> grade -> skills does not run 'improve'"),
    ("placeholder_of_later_step", setter("grade", prompt="{skills}"), "grade", "prompt", "not produced on every path"),
    ("placeholder_of_itself", setter("improve", prompt="{improve}"), "improve", "prompt", "not produced"),
    ("unknown_goto", setter("grade", next=[{"goto": "skillz"}]), "grade", "next[0].goto",
     "unknown conversation 'skillz'"),
    ("backward_goto", setter("improve", next=[{"goto": "grade"}]), "improve", "next[0].goto", "goes back to 'grade'"),
    ("self_goto", setter("improve", next=[{"goto": "END"}, {"goto": "improve"}]), "improve", "next[1].goto",
     "goes back to itself"),
    ("ambiguous_default_next", add(conversation_id=5, name="other", execution_order=4, actor="gemma2", prompt="x"),
     "improve", "next", "ambiguous default next"),
    ("ambiguous_entry", add(conversation_id=5, name="first", execution_order=1, actor="gemma2", prompt="x"),
     "first", "execution_order", "entry conversation must be unique"),
    ("duplicate_conversation_id", setter("improve", conversation_id=2), "improve", "conversation_id", "duplicate"),
    ("duplicate_name", add(conversation_id=5, name="improve", execution_order=5, actor="gemma2", prompt="x"),
     "improve", "name", "duplicate name"),
    ("unknown_save_to", setter("skills", save_to="skill_list"), "skills", "save_to", "unknown postings column"),
    ("bad_validate_regex", setter("grade", validate={"regex": "[unclosed"}), "grade", "validate.regex",
     "invalid regex"),
    ("bad_when_regex", setter("extract", next=[{"when": {"regex": "(a"}, "goto": "grade"}]), "extract",
     "next[0].when.regex", "invalid regex"),
    ("bad_format_schema", setter("grade", format={"type": "objekt"}), "grade", "format", "invalid JSON schema"),
    ("bad_format_value", setter("grade", format="xml"), "grade", "format", "'json' or a JSON schema"),
    ("bad_validate_schema", setter("grade", validate={"json_schema": {"required": "grade"}}), "grade",
     "validate.json_schema", "invalid JSON schema"),
    ("when_without_condition", setter("extract", next=[{"when": {}, "goto": "grade"}]), "extract", "next[0].when",
     "exactly one of contains, regex, json (got none)"),
    ("when_two_conditions", setter("extract", next=[{"when": {"contains": "a", "regex": "b"}, "goto": "grade"}]),
     "extract", "next[0].when", "got contains, regex"),
    ("bad_json_path", setter("grade", next=[{"when": {"json": {"path": "$[[", "equals": 1}}, "goto": "END"}]),
     "grade", "next[0].when.json.path", "invalid JSON path"),
    ("default_rule_not_last", setter("extract", next=[{"goto": "grade"}, {"when": {"contains": "x"}, "goto": "END"}]),
     "extract", "next[0]", "unreachable"),
    ("empty_next", setter("improve", next=[]), "improve", "next", "at least one rule"),
    ("goto_missing", setter("improve", next=[{"when": {"contains": "x"}}]), "improve", "next[0].goto", "required"),
]


def write_case(tmp_path: Path, case_id: str, mutation: Mutation) -> Path:
    data = copy.deepcopy(BASE)
    result = mutation(data)
    path = tmp_path / f"{case_id}.yaml"
    path.write_text(result if isinstance(result, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def expected_prefix(path: Path, conversation: str | None, field: str) -> str:
    where = "workflow" if conversation is None else f"conversation '{conversation}'"
    return f"{path}: {where}: {field}: "


def assert_reported(lines: list[str], prefix: str, fragment: str) -> None:
    hits = [line for line in lines if line.startswith(prefix)]
    assert hits, f"no error starting with {prefix!r} in:\n" + "\n".join(lines)
    assert any(fragment in line for line in hits), f"{fragment!r} not in:\n" + "\n".join(hits)


def test_enough_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 28


# Odd cases go through the Click command, even ones through validate_paths: both paths get exercised.
@pytest.mark.parametrize("case_id,mutation,conversation,field,fragment", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_case_via_cli(tmp_path: Path, case_id: str, mutation: Mutation, conversation: str | None, field: str,
                      fragment: str) -> None:
    path = write_case(tmp_path, case_id, mutation)
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no crash, a clean exit 2
    assert result.stdout == ""
    assert_reported(result.stderr.splitlines(), expected_prefix(path, conversation, field), fragment)


@pytest.mark.parametrize("case_id,mutation,conversation,field,fragment", CASES[1::2], ids=[c[0] for c in CASES[1::2]])
def test_case_via_validate_paths(tmp_path: Path, case_id: str, mutation: Mutation, conversation: str | None,
                                 field: str, fragment: str) -> None:
    path = write_case(tmp_path, case_id, mutation)
    workflows, errors = validate_paths([path])
    assert workflows == []
    lines = [str(e) for e in errors]
    assert all("\n" not in line for line in lines)
    assert_reported(lines, expected_prefix(path, conversation, field), fragment)
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow_file(path)
    assert [str(e) for e in info.value.errors] == lines


def test_valid_workflow_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as free:  # a port nothing listens on: no Ollama answers
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    monkeypatch.delenv("TURING_OLLAMA_HOSTS", raising=False)
    path = write_case(tmp_path, "good", lambda d: None)
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok  {path}  (workflow grading, 4 conversations)"
    # the models are not checked without a server: one note, how to get one, and still exit 0
    assert result.stderr.startswith(f"note: models not checked, no Ollama answered at http://127.0.0.1:{port} (")
    assert f"`turing simulate-ollama --port {port}`" in result.stderr and result.stderr.count("\n") == 1
    workflow = load_workflow_file(path)
    assert workflow.source_file == str(path)
    assert workflow.conversation("extract").prompt.endswith('Answer like {"grade": "PASS"}')


def test_all_errors_of_a_file_are_reported(tmp_path: Path) -> None:
    def several(data: dict[str, Any]) -> None:
        data["name"] = "Bad Name"
        conv(data, "grade")["actor"] = "bad actor"
        conv(data, "improve")["save_to"] = "nowhere"
        conv(data, "skills")["prompt"] = "{missing}"

    path = write_case(tmp_path, "several", several)
    _, errors = validate_paths([path])
    assert {(e.conversation, e.field) for e in errors} == {
        (None, "name"), ("grade", "actor"), ("improve", "save_to"), ("skills", "prompt"),
    }


def test_fallback_covers_every_path(tmp_path: Path) -> None:
    path = write_case(tmp_path, "fallback", setter("skills", prompt="{improve|grade} {improve|posting.job_title}"))
    workflows, errors = validate_paths([path])
    assert errors == [] and [w.name for w in workflows] == ["grading"]


def test_cross_file_duplicates(tmp_path: Path) -> None:
    write_case(tmp_path, "a_first", lambda d: None)
    write_case(tmp_path, "b_same_id", lambda d: d.update(name="other"))
    write_case(tmp_path, "c_same_name", top(workflow_id=4002))

    def same_conversation_id(data: dict[str, Any]) -> None:
        data.update(workflow_id=4003, name="third")
        for i, c in enumerate(data["conversations"]):
            c["conversation_id"] = 100 + i
        conv(data, "skills")["conversation_id"] = 3

    write_case(tmp_path, "d_same_conversation", same_conversation_id)
    workflows, errors = validate_paths([tmp_path])
    lines = [str(e) for e in errors]
    assert [w.name for w in workflows] == ["grading"]
    assert_reported(lines, f"{tmp_path / 'b_same_id.yaml'}: workflow: workflow_id: ", "a_first.yaml")
    assert_reported(lines, f"{tmp_path / 'c_same_name.yaml'}: workflow: name: ", "a_first.yaml")
    assert_reported(lines, f"{tmp_path / 'd_same_conversation.yaml'}: conversation 'skills': conversation_id: ",
                    "conversation 'improve'")
    with pytest.raises(WorkflowValidationError):
        load_workflows(tmp_path)


def test_missing_path_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(validate, [str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}: workflow: path: no such file or directory"
    assert "Traceback" not in result.output


def test_default_directory_and_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(tmp_path))
    assert load_workflows() == []
    result = CliRunner().invoke(validate, [])
    assert result.exit_code == 2 and "no *.yaml or *.yml files" in result.stderr
    write_case(tmp_path, "good", lambda d: None)
    result = CliRunner().invoke(validate, [])
    assert result.exit_code == 0 and "workflow grading" in result.stdout
    assert [w.name for w in load_workflows()] == ["grading"]


def test_same_file_twice_is_not_a_duplicate(tmp_path: Path) -> None:
    path = write_case(tmp_path, "good", lambda d: None)
    workflows, errors = validate_paths([path, tmp_path])
    assert errors == [] and len(workflows) == 1


def test_many_paths_are_checked_without_enumerating_them() -> None:
    # 2**30 paths from s to the last step: the check must answer without walking them one by one
    levels = 30
    branch = [{"when": {"contains": "a"}, "goto": "a1"}, {"goto": "b1"}]
    convs: list[dict[str, Any]] = [
        {"conversation_id": 0, "name": "s", "execution_order": 0, "actor": "m", "prompt": "p", "next": branch}
    ]
    for i in range(1, levels + 1):
        for side in "ab":
            step: dict[str, Any] = {"conversation_id": len(convs), "name": f"{side}{i}", "execution_order": i,
                                    "actor": "m", "prompt": "{s}"}
            if i < levels:
                step["next"] = [{"when": {"contains": "a"}, "goto": f"a{i + 1}"}, {"goto": f"b{i + 1}"}]
            convs.append(step)
    convs[-1]["prompt"] = "{a5|b5} {s} {a10}"
    workflow, errors = parse_workflow({"workflow_id": 1, "name": "ladder", "conversations": convs}, "ladder.yaml")
    assert workflow is None
    assert [(e.conversation, e.field) for e in errors] == [(f"b{levels}", "prompt")]
    assert "placeholder {a10} is not produced" in errors[0].message
    convs[-1]["prompt"] = "{a5|b5} {s} {a10|b10}"
    workflow, errors = parse_workflow({"workflow_id": 1, "name": "ladder", "conversations": convs}, "ladder.yaml")
    assert errors == [] and workflow is not None
