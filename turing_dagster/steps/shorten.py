"""`overflow: shorten`: cut the longest `{posting.*}` field of a prompt at a sentence boundary until it fits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from turing_dagster.workflows.placeholders import POSTING_PREFIX, find_placeholders
from turing_dagster.workflows.spec import Conversation

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_MIN_CHARS = 200  # below this a field is not worth cutting further
_ROUNDS = 12


def posting_fields(conv: Conversation) -> list[str]:
    """The posting fields the conversation's texts name, in order of first use."""
    found: dict[str, None] = {}
    for _, text, _ in conv.templates():
        for ph in find_placeholders(text):
            for alt in ph.alternatives:
                if alt.startswith(POSTING_PREFIX):
                    found.setdefault(alt[len(POSTING_PREFIX):], None)
    return list(found)


def cut_at_sentence(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` characters that ends a sentence (else a word)."""
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] > limit // 2:
        return head[: ends[-1]]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


def shorten(
    posting: dict[str, Any],
    fields: list[str],
    excess: Callable[[dict[str, Any]], int],
) -> tuple[dict[str, Any], dict[str, list[int]]] | None:
    """A copy of `posting` whose longest named fields are cut until `excess(posting)` (tokens over the
    window, <= 0 when it fits) says it fits, and what was cut ({field: [chars before, chars after]});
    None when cutting cannot make it fit."""
    shortened, cuts = dict(posting), {}
    for _ in range(_ROUNDS):
        over = excess(shortened)
        if over <= 0:
            return shortened, cuts
        texts = {f: shortened.get(f) for f in fields if isinstance(shortened.get(f), str)}
        if not texts:
            return None
        field = max(texts, key=lambda f: len(texts[f]))
        text = texts[field]
        if len(text) <= _MIN_CHARS:
            return None
        # a token is at most 3 bytes in the guard's estimate: drop that many characters per token over, and some
        limit = max(_MIN_CHARS, len(text) - over * 3 - 64)
        shortened[field] = cut_at_sentence(text, limit)
        cuts[field] = [cuts.get(field, [len(text)])[0], len(shortened[field])]
    return None
