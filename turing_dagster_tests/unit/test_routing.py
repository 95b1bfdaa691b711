"""Branch rules: contains, regex, json, default rule, END, no match and no `next`."""

from __future__ import annotations

from typing import Any

import pytest

from turing_dagster.workflows.routing import next_after
from turing_dagster.workflows.spec import Workflow


def llm(cid: int, name: str, order: int, next_: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    conv: dict[str, Any] = {"conversation_id": cid, "name": name, "execution_order": order, "actor": "m", "prompt": "p"}
    if next_ is not None:
        conv["next"] = next_
    return conv


WORKFLOW = Workflow.model_validate(
    {
        "workflow_id": 1,
        "name": "routes",
        "conversations": [
            llm(1, "extract", 1, [
                {"when": {"contains": "[NO_CONTENT]"}, "goto": "END"},
                {"when": {"regex": r"^SKIP\b"}, "goto": "summary"},
                {"goto": "grade"},
            ]),
            llm(2, "grade", 2, [
                {"when": {"json": {"path": "$.grade", "equals": "FAIL"}}, "goto": "improve"},
                {"when": {"json": {"path": "$.scores[*]", "equals": 10}}, "goto": "summary"},
                {"when": {"json": {"path": "$.ok", "equals": True}}, "goto": "summary"},
            ]),
            llm(3, "improve", 3),
            llm(4, "summary", 4),
        ],
    }
)


@pytest.mark.parametrize(
    "output,expected",
    [
        ("text [NO_CONTENT] here", None),
        ("SKIP this one", "summary"),
        ("NOSKIP this", "grade"),  # regex is re.search but anchored by ^
        ("anything else", "grade"),
        ("[NO_CONTENT] SKIP", None),  # first matching rule wins
    ],
)
def test_contains_regex_and_default(output: str, expected: str | None) -> None:
    assert next_after(WORKFLOW, "extract", output) == expected


@pytest.mark.parametrize(
    "output,expected",
    [
        ('{"grade": "FAIL"}', "improve"),
        ('{"grade": "PASS", "scores": [3, 10]}', "summary"),
        ('{"grade": "PASS", "scores": [3, 4]}', None),  # no rule matches and no default: END
        ('{"ok": true}', "summary"),
        ('{"ok": 1}', None),  # JSON 1 is not true
        ("grade: FAIL", None),  # not JSON: json rules never match
        ('["FAIL"]', None),
    ],
)
def test_json_rules(output: str, expected: str | None) -> None:
    assert next_after(WORKFLOW, "grade", output) == expected


def test_without_next_goes_to_next_execution_order_then_end() -> None:
    assert next_after(WORKFLOW, "improve", "whatever") == "summary"
    assert next_after(WORKFLOW, "summary", "whatever") is None


def test_unknown_conversation_raises() -> None:
    with pytest.raises(KeyError):
        next_after(WORKFLOW, "nope", "x")
