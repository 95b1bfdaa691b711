"""Checks an output against its conversation's `format` and `validate` before it is accepted."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from turing_dagster.workflows.spec import Conversation, Turn

_MAX_SHOWN = 120


def _parse(text: str) -> tuple[Any, str | None]:
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"output is not valid JSON: {exc}"


_validators: dict[int, tuple[dict[str, Any], Any]] = {}


def _validator(schema: dict[str, Any]) -> Any:
    # building a validator costs more than most validations: one per schema object, not one per answer
    # (the cache holds the schema too, so its id is never reused while cached)
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_validators) >= 256:
            _validators.clear()
        hit = _validators[id(schema)] = (schema, jsonschema.validators.validator_for(schema)(schema))
    return hit[1]


def _schema_problem(document: Any, schema: dict[str, Any], what: str) -> str | None:
    # best_match picks the most relevant of possibly many violations, for a one-line reason.
    validator = _validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    where = error.json_path if hasattr(error, "json_path") else "$"
    message = " ".join(error.message.split())
    if len(message) > _MAX_SHOWN:
        message = message[: _MAX_SHOWN - 3] + "..."
    return f"output does not match {what} at {where}: {message}"


def check_output(conversation: Conversation | Turn, text: str) -> str | None:
    """None when `text` satisfies `format` and `validate` (of a conversation, or of one of its turns);
    otherwise a one-line reason."""
    fmt = conversation.format
    if fmt is not None:
        document, problem = _parse(text)
        if problem:
            return problem
        if isinstance(fmt, dict):
            problem = _schema_problem(document, fmt, "the format schema")
            if problem:
                return problem
    checks = conversation.checks
    if checks is None:
        return None
    if checks.regex is not None and re.search(checks.regex, text) is None:
        return f"output does not match validate.regex {checks.regex!r}"
    if checks.json_schema is not None:
        document, problem = _parse(text)
        if problem:
            return problem
        return _schema_problem(document, checks.json_schema, "validate.json_schema")
    return None
