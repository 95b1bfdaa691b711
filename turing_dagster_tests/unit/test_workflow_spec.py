"""Workflow model: graph queries, effective settings and code_version."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pydantic import ValidationError

from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.spec import Conversation, Workflow
from turing_dagster.workflows.versions import code_version

DEFINITION: dict[str, Any] = {
    "workflow_id": 3001,
    "name": "pipeline",
    "defaults": {"options": {"temperature": 0, "num_ctx": 8192}, "retries": 2},
    "waves": {"min_size": 10, "max_wait_seconds": 60},
    "conversations": [
        {"conversation_id": 13, "name": "grade", "execution_order": 4, "actor": "gemma2",
         "prompt": "Grade {extract}", "options": {"temperature": 0.5}, "retries": 0,
         "next": [{"when": {"json": {"path": "$.grade", "equals": "FAIL"}}, "goto": "improve"}, {"goto": "skills"}]},
        {"conversation_id": 12, "name": "extract", "execution_order": 3, "actor": "gemma3:4b",
         "system": "Title: {posting.job_title}", "prompt": "Summarise {posting.job_description}",
         "validate": {"regex": "\\S"}, "save_to": "extracted_summary",
         "next": [{"when": {"contains": "[NO_CONTENT]"}, "goto": "END"}, {"goto": "grade"}]},
        {"conversation_id": 14, "name": "improve", "execution_order": 5, "actor": "qwen2.5", "prompt": "Fix {extract}"},
        {"conversation_id": 15, "name": "skills", "execution_order": 6, "actor": "python:turing_dagster.skills:extract",
         "system": "{improve|extract}"},
        {"conversation_id": 16, "name": "score", "execution_order": 7, "actor": "library/llama3:8b",
         "prompt": "{skills} {posting.job_title}", "format": "json"},
    ],
}


def load(definition: dict[str, Any]) -> Workflow:
    workflow, errors = parse_workflow(definition, "test.yaml")
    assert errors == [] and workflow is not None, [str(e) for e in errors]
    return workflow


@pytest.fixture()
def wf() -> Workflow:
    return load(copy.deepcopy(DEFINITION))


def test_actor_properties(wf: Workflow) -> None:
    skills, extract = wf.conversation("skills"), wf.conversation("extract")
    assert skills.is_python and skills.model is None and skills.python_target == ("turing_dagster.skills", "extract")
    assert not extract.is_python and extract.model == "gemma3:4b" and extract.python_target is None
    assert wf.conversation("score").model == "library/llama3:8b"


def test_order_lookup_and_entry(wf: Workflow) -> None:
    assert [c.name for c in wf.ordered] == ["extract", "grade", "improve", "skills", "score"]
    assert wf.entry.name == "extract"
    assert wf.by_id(14).name == "improve"
    with pytest.raises(KeyError):
        wf.conversation("nope")
    with pytest.raises(KeyError):
        wf.by_id(99)


def test_graph_queries(wf: Workflow) -> None:
    assert wf.default_next("extract") == "grade"
    assert wf.default_next("score") is None
    assert wf.successors("extract") == ["grade"]  # END is not a successor
    assert wf.successors("grade") == ["improve", "skills"]
    assert wf.successors("improve") == ["skills"]
    assert wf.successors("score") == []
    assert wf.predecessors("skills") == ["grade", "improve"]
    assert wf.predecessors("extract") == []
    assert wf.placeholder_sources("skills") == {"improve", "extract"}
    assert wf.placeholder_sources("extract") == set()
    assert wf.upstream("skills") == {"extract", "grade", "improve"}
    assert wf.upstream("score") == {"extract", "grade", "improve", "skills"}
    assert wf.upstream("extract") == set()


def test_effective_settings(wf: Workflow) -> None:
    assert wf.options_for("grade") == {"temperature": 0.5, "num_ctx": 8192}
    assert wf.options_for("extract") == {"temperature": 0, "num_ctx": 8192}
    assert wf.retries_for("grade") == 0 and wf.retries_for("extract") == 2
    assert (wf.waves.min_size, wf.waves.max_wait_seconds, wf.waves.max_size) == (10, 60, 1000)
    assert wf.conversation("extract").checks is not None and wf.conversation("extract").checks.regex == "\\S"


def test_dump_round_trips_yaml_keys(wf: Workflow) -> None:
    dumped = wf.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert "source_file" not in dumped
    extract = next(c for c in dumped["conversations"] if c["name"] == "extract")
    assert extract["validate"] == {"regex": "\\S"}
    grade = next(c for c in dumped["conversations"] if c["name"] == "grade")
    assert grade["next"][0]["when"] == {"json": {"path": "$.grade", "equals": "FAIL"}}
    assert Workflow.model_validate(dumped) == wf.model_copy(update={"source_file": ""})


def test_code_version_is_stable_and_short(wf: Workflow) -> None:
    versions = {c.name: code_version(wf, c.name) for c in wf.conversations}
    assert versions == {c.name: code_version(load(copy.deepcopy(DEFINITION)), c.name) for c in wf.conversations}
    assert all(len(v) == 12 and int(v, 16) >= 0 for v in versions.values())
    assert len(set(versions.values())) == len(versions)


def _rename(definition: dict, old: str, new: str) -> None:
    """Rename a conversation everywhere: its name, the gotos and the placeholders naming it."""
    for conv in definition["conversations"]:
        if conv["name"] == old:
            conv["name"] = new
        for rule in conv.get("next") or []:
            rule["goto"] = new if rule["goto"] == old else rule["goto"]
        for field in ("prompt", "system"):
            if conv.get(field):
                conv[field] = re.sub(r"\{([^{}]*)\}", lambda m: "{" + "|".join(
                    new if part == old else part for part in m.group(1).split("|")) + "}", conv[field])


@pytest.mark.parametrize(
    "edit,changed",
    [
        (lambda d: d["conversations"][1].update(prompt="Summarise briefly {posting.job_description}"), {"extract"}),
        (lambda d: d["conversations"][0].update(actor="gemma2:9b"), {"grade"}),
        (lambda d: d["conversations"][2].update(retries=5), set()),  # retries change neither answer nor route
        (lambda d: d["conversations"][1].update(save_to=None), {"extract"}),
        (lambda d: d["conversations"][1]["next"].insert(0, {"when": {"regex": "x"}, "goto": "END"}), {"extract"}),
        (lambda d: d["conversations"][4].update(format={"type": "object"}), {"score"}),
        # defaults reach every conversation that does not override them
        (lambda d: d["defaults"]["options"].update(num_ctx=4096), {"extract", "grade", "improve", "skills", "score"}),
        (lambda d: d["defaults"].update(retries=3), set()),
        # a rename changes no version, though the prompts naming it change their text
        (lambda d: _rename(d, "extract", "summary"), set()),
        (lambda d: d.update(description="new words", waves={"min_size": 1}), set()),
    ],
)
def test_code_version_changes_only_where_edited(wf: Workflow, edit: Any, changed: set[str]) -> None:
    definition = copy.deepcopy(DEFINITION)
    edit(definition)
    edited = load(definition)
    ids = {c.conversation_id: c.name for c in edited.conversations}  # a renamed one is the same conversation
    differs = {c.name for c in wf.conversations
               if code_version(wf, c.name) != code_version(edited, ids[c.conversation_id])}
    assert differs == changed


def test_ambiguities_raise_in_python_api() -> None:
    convs = [
        {"conversation_id": i, "name": n, "execution_order": o, "actor": "m", "prompt": "p"}
        for i, (n, o) in enumerate([("a", 1), ("b", 2), ("c", 2)])
    ]
    wf = Workflow.model_validate({"workflow_id": 1, "name": "w", "conversations": convs})
    with pytest.raises(ValueError, match="ambiguous default next"):
        wf.default_next("a")
    wf2 = Workflow.model_validate({"workflow_id": 1, "name": "w", "conversations": convs[1:]})
    with pytest.raises(ValueError, match="ambiguous entry"):
        _ = wf2.entry


@pytest.mark.parametrize(
    "field,value",
    [("actor", "gemma3 4b"), ("actor", "python:a-b:c"), ("actor", ""), ("name", "Bad"), ("execution_order", True),
     ("conversation_id", "7"), ("retries", -1), ("format", "yaml"), ("validate", {"regex": "("}), ("json", 1)],
)
def test_conversation_model_rejects(field: str, value: Any) -> None:
    base = {"conversation_id": 1, "name": "c", "execution_order": 1, "actor": "gemma3:4b", "prompt": "p"}
    with pytest.raises(ValidationError):
        Conversation.model_validate({**base, field: value})


@pytest.mark.parametrize("actor", ["gemma3:4b", "qwen2.5", "library/x:tag", "hf.co/user/repo:Q4_K_M", "python:m:f",
                                   "python:pkg.mod.sub:run_it"])
def test_conversation_model_accepts_actors(actor: str) -> None:
    conv = Conversation.model_validate({"conversation_id": 1, "name": "c", "execution_order": 0, "actor": actor})
    assert conv.actor == actor


def test_code_version_follows_structural_routing_changes():
    from turing_dagster.workflows.loader import parse_workflow

    def versions(conversations):
        wf, errors = parse_workflow({"workflow_id": 1, "name": "w", "conversations": conversations})
        assert not errors, errors
        return {c.name: code_version(wf, c.name) for c in wf.conversations}

    a = {"conversation_id": 1, "name": "a", "execution_order": 1, "actor": "python:m.x:f"}
    b = {"conversation_id": 3, "name": "b", "execution_order": 3, "actor": "python:m.x:g"}
    c = {"conversation_id": 2, "name": "c", "execution_order": 2, "actor": "python:m.x:h"}
    base = versions([a, b])
    # inserting c between a and b changes where a's postings go by default
    assert versions([a, c, b])["a"] != base["a"] and versions([a, c, b])["b"] == base["b"]
    # renumbering b changes a (its target's id), not b: checkpoints are keyed by the id already
    renumbered = versions([a, {**b, "conversation_id": 30}])
    assert renumbered["a"] != base["a"] and renumbered["b"] == base["b"]
