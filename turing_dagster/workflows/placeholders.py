"""Prompt placeholders: `{posting.FIELD}`, `{conversation_name}`, `{turnN}` and `|` fallback chains.

In a turn of `instructions:`, `{turnN}` is the answer to turn N (1-based) of the same chat.

Only `{identifier}`, `{identifier.identifier}` and `|`-chains of those are placeholders.
Any other brace text (JSON examples such as `{"grade": "PASS"}`, `{ x }`, `{1}`, a lone
`{{`) is literal and is passed through unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POSTING_PREFIX = "posting."

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_ALT = rf"{_IDENT}(?:\.{_IDENT})?"
PLACEHOLDER_RE = re.compile(rf"\{{({_ALT}(?:\|{_ALT})*)\}}")
TURN_RE = re.compile(r"^turn([1-9][0-9]*)$")
# brace text made of placeholder characters only (no quotes, colons or commas as in JSON examples)
_LOOKALIKE_RE = re.compile(r"\{([A-Za-z0-9_.|\s]*[A-Za-z_][A-Za-z0-9_.|\s]*)\}")


@dataclass(frozen=True)
class Placeholder:
    """One placeholder occurrence: `text` is the full `{...}`, `alternatives` its `|` parts in order."""

    text: str
    alternatives: list[str]
    start: int = 0

    @property
    def conversation_names(self) -> list[str]:
        """Alternatives that refer to conversation outputs (not `posting.*`)."""
        return [a for a in self.alternatives if not a.startswith(POSTING_PREFIX)]


def turn_number(alternative: str) -> int | None:
    """N for `turnN`, else None."""
    match = TURN_RE.match(alternative)
    return int(match.group(1)) if match else None


def find_lookalikes(template: str | None) -> list[str]:
    """Brace text that looks like a placeholder but is not one (`{name|}`, `{ name }`, `{posting.}`):
    it would reach the model literally."""
    if not template:
        return []
    return [
        m.group(0)
        for m in _LOOKALIKE_RE.finditer(template)
        if not PLACEHOLDER_RE.fullmatch(m.group(0)) and "\n" not in m.group(1)
    ]


class UnresolvedPlaceholder(Exception):
    """No alternative of a placeholder has a value for this posting."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        super().__init__(f"unresolved placeholder {placeholder}")


def find_placeholders(template: str | None) -> list[Placeholder]:
    """All placeholders in `template`, in order of appearance."""
    if not template:
        return []
    return [
        Placeholder(text=m.group(0), alternatives=m.group(1).split("|"), start=m.start())
        for m in PLACEHOLDER_RE.finditer(template)
    ]


def _as_text(value: Any) -> str:
    # Structured posting fields (from the `extra` JSON column) read better as JSON than as Python repr.
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def resolve(alternative: str, posting: Mapping[str, Any], outputs: Mapping[str, str]) -> str | None:
    """The value of one alternative, or None when it does not exist for this posting."""
    if alternative.startswith(POSTING_PREFIX):
        value = posting.get(alternative[len(POSTING_PREFIX):])
    else:
        value = outputs.get(alternative)
    return None if value is None else _as_text(value)


def normalize(template: str | None, ids: Mapping[str, int]) -> str | None:
    """`template` with each conversation named in a placeholder replaced by its id (`{#3335}`): what a
    step's code version hashes, so renaming a conversation changes no version."""
    if not template:
        return template

    def substitute(match: re.Match[str]) -> str:
        parts = [f"#{ids[a]}" if a in ids else a for a in match.group(1).split("|")]
        return "{" + "|".join(parts) + "}"

    return PLACEHOLDER_RE.sub(substitute, template)


def render(template: str, posting: Mapping[str, Any], outputs: Mapping[str, str]) -> str:
    """Substitute every placeholder; raise UnresolvedPlaceholder when one has no value.

    re.sub never rescans replacement text, so a value containing `{posting.x}` stays literal.
    """

    def substitute(match: re.Match[str]) -> str:
        for alternative in match.group(1).split("|"):
            value = resolve(alternative, posting, outputs)
            if value is not None:
                return value
        raise UnresolvedPlaceholder(match.group(0))

    return PLACEHOLDER_RE.sub(substitute, template)
