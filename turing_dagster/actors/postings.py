"""Python actors of the sample workflow `job_posting_pipeline`.

Each actor is called as `fn(posting, inputs) -> str`: `posting` is the posting row (posting_id, job_title,
job_description and its extra fields), `inputs` maps conversation names to their outputs for this posting
(None when that conversation did not run for it).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping

NO_CONTENT = "[NO_CONTENT]"
MAX_CHARS = 6000
MIN_MEANINGFUL_CHARS = 40

# whole elements whose content is never text for a reader
_DROP_ELEMENTS = re.compile(r"<(script|style|head|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_BLOCK_BREAKS = re.compile(
    r"<br\s*/?>|</?(?:p|div|h[1-6]|ul|ol|table|tr|section|article|header|footer|blockquote)\b[^>]*>",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_CELL = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
# only tag-shaped text: "salary < 50k" and "<3" are left alone
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_BLANK_LINES = re.compile(r"\n{3,}")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def strip_html(text: str) -> str:
    """Plain text from HTML (or from text that merely contains some tags): tags out, entities decoded."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text:
        text = _COMMENTS.sub(" ", text)
        text = _DROP_ELEMENTS.sub(" ", text)
        text = _LIST_ITEM.sub("\n- ", text)
        text = _BLOCK_BREAKS.sub("\n", text)
        text = _CELL.sub(" ", text)
        text = _TAG.sub("", text)
    # after the tags are gone, so that an escaped "&lt;b&gt;" stays visible as text
    return html.unescape(text)


def normalize_whitespace(text: str) -> str:
    """One space between words, no trailing spaces, at most one blank line between paragraphs."""
    # str.split() splits at what the regex's \s matches (str.isspace), several times faster than a regex
    lines = [" ".join(line.split()) for line in _INVISIBLE.sub("", text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def truncate_at_sentence(text: str, limit: int = MAX_CHARS) -> str:
    """`text` cut to at most `limit` characters: at the last sentence end in the final quarter, else at the
    last line break or space in the second half, else hard."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head + " ") if m.end() >= limit * 3 // 4]
    if ends:
        return head[: ends[-1]].rstrip()
    for sep in ("\n", " "):
        cut = head.rfind(sep)
        if cut > limit // 2:
            return head[:cut].rstrip()
    return head


def clean_description(posting: Mapping[str, object], inputs: Mapping[str, str | None]) -> str:
    """The posting's description as plain text for the LLM steps, or "[NO_CONTENT]" when nothing usable is left.

    Strips HTML tags and entities, normalises whitespace, and caps the text at about 6000 characters at a
    sentence boundary. Braces are kept as they are: they are text, never placeholders.
    """
    text = normalize_whitespace(strip_html(_text(posting.get("job_description"))))
    if not _meaningful(text):
        return NO_CONTENT
    return truncate_at_sentence(text)


def _meaningful(text: str) -> bool:
    """At least MIN_MEANINGFUL_CHARS letters or digits; stops counting there (a description is thousands)."""
    seen = 0
    for ch in text:
        if ch.isalnum():
            seen += 1
            if seen >= MIN_MEANINGFUL_CHARS:
                return True
    return False


def pick_summary(posting: Mapping[str, object], inputs: Mapping[str, str | None]) -> str:
    """The final summary: the improved one when the grader failed the first draft, else the first draft."""
    for name in ("qwen25_improve", "gemma3_extract"):
        value = (inputs.get(name) or "").strip()
        if value:
            return value
    raise ValueError("no summary to pick: neither qwen25_improve nor gemma3_extract produced output")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Short, frequent words that are (nearly) unique to one language. Words common to two of them ("de", "la",
# "en", "un", "se", "es", "in", "an", "profil") are left out so that they cannot tip the balance.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and of to with for our you your we will are is this that be have from as at on or who "
        "what which their they all can about work years experience"
    ),
    "de": _words(
        "der die das und ist mit für wir sie ihr ihre ein eine einen zu von den dem auf im nicht bei auch "
        "oder sich werden unsere unser unseren bieten suchen aufgaben sowie über zur zum"
    ),
    "fr": _words(
        "le les et des une du pour vous nous est dans avec au aux sur votre vos notre nos qui sont être ou "
        "ce cette il elle êtes avez poste missions"
    ),
    "es": _words(
        "el los las y del para con una por nuestro nuestra nuestros tu tus su sus al como más "
        "buscamos ofrecemos funciones experiencia trabajo equipo años"
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(posting: Mapping[str, object], inputs: Mapping[str, str | None]) -> str:
    """The posting's language ("en", "de", "fr", "es") or "unknown", from each language's distinctive stopwords."""
    text = inputs.get("clean_description") or ""
    if not text or text == NO_CONTENT:
        text = normalize_whitespace(strip_html(_text(posting.get("job_description"))))
    counts = Counter(_WORD.findall(text.lower()))  # one pass over the words, not one per language
    scores = {lang: sum(counts[w] for w in stop if w in counts) for lang, stop in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, runner_up) = ranked[0], ranked[1]
    # too little evidence, or two languages neck and neck (mixed-language text)
    if top < 3 or top < 1.5 * runner_up:
        return "unknown"
    return best
