"""Text tests behind the QA checks: grounding of extracted items, facts of summaries, template holes.

Deliberately simple and explainable, in the spirit of the old `qa_check_hallucinations.py`: words are
compared after lower-casing, dropping punctuation and a crude suffix stemming, so "Managing teams"
is found in "team management"; facts are e-mail addresses, URLs, money amounts and numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from turing_dagster.workflows.placeholders import POSTING_PREFIX, find_placeholders

_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
# longest first; "ies" -> "y" so that "companies" and "company" meet
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ers", "er", "ed", "es", "ly", "s", "e")

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>()\"']+", re.IGNORECASE)
_CURRENCY = r"(?:[$€£]|\b(?:EUR|USD|GBP|CHF)\b)"
MONEY_RE = re.compile(
    rf"{_CURRENCY}\s?\d[\d,.]*(?:\s?[kKmM]\b)?|\d[\d,.]*(?:\s?[kKmM]\b)?\s?(?:{_CURRENCY}|\b(?:euros?|dollars?)\b)",
    re.IGNORECASE,
)
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")


@lru_cache(maxsize=1 << 16)  # a pure function of the word; postings repeat most of their words
def stem(word: str) -> str:
    """Strip suffixes until none is left: "management" -> "manage" -> "manag", as "managing" -> "manag"."""
    while True:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        else:
            return word


def stems(text: str) -> list[str]:
    """The normalised words of `text`: lower case, no punctuation, stemmed."""
    return [stem(w) for w in _WORD.findall(text.lower())]


def grounded(item: str, posting_stems: set[str]) -> bool:
    """Every word of `item` occurs in the posting (an item without words is not judged)."""
    return all(s in posting_stems for s in stems(item))


def _number(text: str) -> str:
    # "95,000", "95.000" and "95000" are one amount; thousands separators differ by language
    return text.replace(".", "").replace(",", "")


# each kind with what it cannot match without: a text lacking that skips the (slow) pattern, same result
_KINDS = (
    ("email", EMAIL_RE, re.compile("@")),
    ("url", URL_RE, re.compile(r"http|www\.", re.IGNORECASE)),
    ("money", MONEY_RE, re.compile(r"[$€£]|EUR|USD|GBP|CHF|euro|dollar", re.IGNORECASE)),
)


def facts(text: str) -> list[tuple[str, str]]:
    """(kind, text) of every e-mail address, URL, money amount and number in `text`, each once."""
    found: list[tuple[str, str]] = []
    rest = text
    for kind, pattern, needed in _KINDS:
        if not needed.search(rest):
            continue
        found += [(kind, m.group(0).rstrip(".,;:")) for m in pattern.finditer(rest)]
        rest = pattern.sub(" ", rest)
    found += [("number", m.group(0)) for m in NUMBER_RE.finditer(rest)]
    return list(dict.fromkeys(found))


def unsupported_facts(output: str, posting_text: str) -> tuple[int, list[tuple[str, str]]]:
    """(facts in output, those not in the posting): addresses and URLs by text, amounts and numbers by value."""
    all_facts = facts(output)
    if not all_facts:
        return 0, []
    lowered = posting_text.lower()
    numbers = {_number(n) for n in NUMBER_RE.findall(posting_text)}
    missing = []
    for kind, value in all_facts:
        if kind in ("email", "url"):
            ok = value.lower() in lowered
        else:
            ok = all(_number(n) in numbers for n in NUMBER_RE.findall(value))
        if not ok:
            missing.append((kind, value))
    return len(all_facts), missing


def template_holes(text: str | None, names: Iterable[str], literal: str) -> list[str]:
    """Placeholders of this workflow left in `text` (`{posting.x}`, `{conversation}`) that `literal`
    (the posting's own text, which may quote such braces) does not explain."""
    known = set(names)
    return [
        ph.text
        for ph in find_placeholders(text)
        if ph.text not in literal
        and any(a.startswith(POSTING_PREFIX) or a in known or re.fullmatch(r"turn\d+", a) for a in ph.alternatives)
    ]
