"""Checks of single field values in a workflow definition: regexes, JSON schemas, JSON paths."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonschema


@lru_cache(maxsize=512)
def parse_json_path(path: str) -> Any:
    """Parse a JSONPath once (jsonpath-ng's parser is slow); raises ValueError when malformed."""
    from jsonpath_ng.ext import parse  # the ext dialect also supports filters and arithmetic

    try:
        return parse(path)
    except Exception as exc:  # jsonpath-ng raises a mix of lexer/parser exception types
        raise ValueError(f"invalid JSON path {path!r}: {exc}") from None


def check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
    return value


def check_schema(value: Any) -> Any:
    if value is not None:
        if not isinstance(value, dict):
            raise ValueError(f"must be a JSON schema (a mapping), got {type(value).__name__}")
        try:
            jsonschema.validators.validator_for(value).check_schema(value)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path)
            raise ValueError(f"invalid JSON schema{f' at {where}' if where else ''}: {exc.message}") from None
        except Exception as exc:  # e.g. an unhashable `$schema`
            raise ValueError(f"invalid JSON schema: {exc}") from None
    return value
