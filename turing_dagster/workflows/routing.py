"""Where a posting goes after a conversation: evaluation of its `next` branch rules."""

from __future__ import annotations

import json
import re
from typing import Any

from turing_dagster.workflows.fields import parse_json_path
from turing_dagster.workflows.spec import END, BranchCondition, Workflow

_NOT_JSON = object()


def _same(found: Any, expected: Any) -> bool:
    # JSON `true` must not equal `1` (Python's bool is an int).
    if isinstance(found, bool) or isinstance(expected, bool):
        return isinstance(found, bool) and isinstance(expected, bool) and found == expected
    return found == expected


def _load_json(output: str) -> Any:
    try:
        return json.loads(output)
    except (ValueError, TypeError):
        return _NOT_JSON


def matches(condition: BranchCondition, output: str) -> bool:
    """Whether one `when` condition holds for `output`."""
    if condition.contains is not None:
        return condition.contains in output
    if condition.regex is not None:
        return re.search(condition.regex, output) is not None
    if condition.json_ is not None:
        document = _load_json(output)
        if document is _NOT_JSON:
            return False
        try:
            found = parse_json_path(condition.json_.path).find(document)
        except Exception:  # odd documents can trip jsonpath-ng's ext operators; no match then
            return False
        return any(_same(match.value, condition.json_.equals) for match in found)
    return False


def next_after(workflow: Workflow, conversation_name: str, output: str) -> str | None:
    """The conversation a posting goes to after `conversation_name` produced `output`; None = END.

    First matching rule wins, a rule without `when` always matches, and when no rule matches the
    posting ends. Without `next` the posting goes to the next higher execution_order.
    """
    conv = workflow.conversation(conversation_name)
    if conv.next is None:
        return workflow.default_next(conversation_name)
    for rule in conv.next:
        if rule.when is None or matches(rule.when, output):
            return None if rule.goto == END else rule.goto
    return None
