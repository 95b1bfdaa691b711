"""check_output: format json, format schema, validate.regex, validate.json_schema."""

from __future__ import annotations

from typing import Any

import pytest

from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.spec import Conversation

SCHEMA = {"type": "object", "required": ["grade"], "properties": {"grade": {"enum": ["PASS", "FAIL"]}}}


def conversation(**fields: Any) -> Conversation:
    return Conversation.model_validate(
        {"conversation_id": 1, "name": "c", "execution_order": 1, "actor": "gemma3:4b", "prompt": "p", **fields}
    )


def test_no_checks_accepts_anything() -> None:
    assert check_output(conversation(), "") is None
    assert check_output(conversation(), "not json") is None


def test_format_json() -> None:
    conv = conversation(format="json")
    assert check_output(conv, '{"a": 1}') is None
    reason = check_output(conv, "{'a': 1}")
    assert reason is not None and reason.startswith("output is not valid JSON")


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('{"grade": "PASS"}', None),
        ('{"grade": "MAYBE"}', "format schema at $.grade"),
        ("{}", "'grade' is a required property"),
        ("nope", "not valid JSON"),
    ],
)
def test_format_schema(text: str, fragment: str | None) -> None:
    reason = check_output(conversation(format=SCHEMA), text)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None and fragment in reason and "\n" not in reason


def test_validate_regex() -> None:
    conv = conversation(validate={"regex": r"^\d+$"})
    assert check_output(conv, "42") is None
    assert check_output(conv, "forty-two") == r"output does not match validate.regex '^\\d+$'"


def test_validate_json_schema() -> None:
    conv = conversation(validate={"json_schema": SCHEMA})
    assert check_output(conv, '{"grade": "FAIL"}') is None
    assert "validate.json_schema" in (check_output(conv, '{"grade": 3}') or "")
    assert "not valid JSON" in (check_output(conv, "PASS") or "")


def test_format_and_validate_together() -> None:
    conv = conversation(format="json", validate={"regex": "PASS"})
    assert check_output(conv, '{"grade": "PASS"}') is None
    assert "validate.regex" in (check_output(conv, '{"grade": "FAIL"}') or "")
    assert "not valid JSON" in (check_output(conv, "PASS") or "")
