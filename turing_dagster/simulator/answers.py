"""Deterministic, plausible answers of the Ollama SIMULATOR (not a language model: canned logic).

The answer depends only on the request's text as the model saw it (cut to fit its context, see context.py):
generate: system + prompt; chat: the system messages and the last user message, plus the user message
before it when the last one brings no posting of its own (a retry complaint, or a later turn of a chat):

- ``format`` "json" or a JSON schema -> valid JSON (an instance of the schema);
- "PASS"/"FAIL" or "grade" in the instructions -> ``PASS: reason`` / ``FAIL: reason`` (~70 % PASS by hash);
- "improve"/"rewrite" -> a cleaned version of the summary in the prompt;
- "summar" -> ``Role: ...\\nSummary: ...`` from the posting's first sentences, or ``[NO_CONTENT]``;
- "skill" -> a comma list of skills in the posting; "score" -> an integer (0-100 unless a range is given);
- anything else -> one short sentence naming the request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .schema import Facts, SchemaFiller
from .template import NOT_STATED, assess, bullets, fill_template, sections, skills_for, template_fields
from .text import PromptParts, find_skills, guess_role, sentences, split_prompt, stable_hash, word_count

NO_CONTENT = "[NO_CONTENT]"
_COMPLAINT = re.compile(
    r"(?i)\b(?:previous|last|your) (?:answer|response|output|reply)\b|\binvalid\b|\bnot valid\b|"
    r"\bdid not (?:match|validate|pass)\b|\bdoes not match\b|\bfailed validation\b|\btry again\b"
)
_CATEGORIES = [
    ("grade", re.compile(r"(?i)\bgrad(?:e|es|er|ers|ing)\b")),
    ("improve", re.compile(r"(?i)\b(?:improv|rewrit|revis|refin|correct|fix|editor)\w*")),
    ("summary", re.compile(r"(?i)summar")),
    ("skills", re.compile(r"(?i)\bskills?\b")),
    ("score", re.compile(r"(?i)\bscor(?:e|es|ing)\b|\brat(?:e|ing)\b")),
]
_PASS_REASONS = ["The summary is accurate and covers the main responsibilities.",
                 "The summary matches the posting and names the key requirements.",
                 "The summary is concise, factual and complete."]
_FAIL_REASONS = ["The summary omits key requirements from the posting.",
                 "The summary includes details that are not in the posting.",
                 "The summary is too vague about the responsibilities."]
_FILLER = re.compile(r"(?i)\b(?:really|very|basically|just|actually|quite|simply)\s+")


@dataclass
class Answer:
    text: str
    category: str
    is_json: bool
    is_retry: bool


def request_texts(endpoint: str, body: dict) -> tuple[str, str, bool]:
    """(system, prompt, is_retry) of a generate or chat request body."""
    if endpoint == "chat":
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        system = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
        users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
        prompt = users[-1] if users else ""
        retry = bool(_COMPLAINT.search(prompt)) and len(messages) > 1
        # a retry, or a later turn of a chat ("now check your list"), works on the earlier request's posting
        if len(users) > 1 and (not retry or word_count(split_prompt("", prompt).posting) < 5):
            prompt = users[-2] + "\n\n" + prompt
        return system, prompt, retry
    system, prompt = str(body.get("system") or ""), str(body.get("prompt") or "")
    return system, prompt, bool(_COMPLAINT.search(prompt))


def classify(instructions: str) -> str:
    if re.search(r"\bPASS\b", instructions) and re.search(r"\bFAIL\b", instructions):
        return "grade"
    starts = []
    for category, pattern in _CATEGORIES:
        match = pattern.search(instructions)
        if match:
            starts.append((match.start(), category))
    return min(starts)[1] if starts else "other"


def score_range(instructions: str) -> tuple[int, int]:
    match = re.search(r"(?i)\b(?:between|from)?\s*(-?\d{1,4})\s*(?:-|–|to|and)\s*(-?\d{1,4})\b", instructions)
    if match and int(match.group(1)) < int(match.group(2)):
        return int(match.group(1)), int(match.group(2))
    match = re.search(r"(?i)\bout of (\d{1,4})\b", instructions)
    return (0, int(match.group(1))) if match else (0, 100)


def summarize(parts: PromptParts, bonus: int = 0) -> str:
    if word_count(parts.posting) < 5 or parts.posting.strip() == NO_CONTENT:
        return NO_CONTENT
    fields = template_fields(parts.instructions)
    if fields:
        return fill_template(fields, parts.posting, guess_role(parts), bonus)
    found = sentences(parts.posting)
    if not found:
        words = parts.posting.split()
        found = [" ".join(words[:30]).rstrip(".,;:") + "."]
    take = 3 if len(" ".join(found[:2])) < 220 else 2
    role = guess_role(parts)
    body = " ".join(found[:take])
    return f"Role: {role}\nSummary: {body}" if role else f"Summary: {body}"


def _summary_fields(summary: str) -> list[tuple[str, bool, int]]:
    lines = summary.split("\n")
    fields = []
    for i, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Za-z /&()-]{1,40}):\s*(.*)$", line.strip())
        if match:
            is_list = not match.group(2) and i + 1 < len(lines) and lines[i + 1].lstrip().startswith("-")
            fields.append((match.group(1), is_list, 6))
    return fields if len(fields) >= 3 else []


def improve(parts: PromptParts) -> str:
    """The summary under review, corrected: re-filled from the posting in its own structure, or cleaned up."""
    base = parts.summary.replace(NO_CONTENT, "").strip()
    fields = template_fields(parts.instructions) or _summary_fields(base)
    if word_count(parts.posting) >= 5 and fields:
        role = re.search(r"(?m)^Role:[ \t]*(.+)$", base)
        return fill_template(fields, parts.posting, role.group(1).strip() if role else guess_role(parts), 2)
    if not base:
        return summarize(parts)
    base = re.sub(r"^(?:role:.*?\s+)?summary:\s*", "", base, flags=re.IGNORECASE)
    seen, cleaned = set(), []
    for sentence in re.split(r"(?<=[.!?])\s+", _FILLER.sub("", re.sub(r"\s+", " ", base))):
        sentence = sentence.strip(" -*")
        if not sentence or sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        sentence = sentence[0].upper() + sentence[1:]
        cleaned.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    role = guess_role(parts)
    text = (f"Role: {role}\n" if role else "") + "Summary: " + " ".join(cleaned)
    missing = [s for s in find_skills(parts.posting, 5) if s.lower() not in base.lower()]
    return text + (f"\nKey skills: {', '.join(missing)}" if missing else "")


def grade(parts: PromptParts) -> tuple[str, str]:
    """PASS for ~70 % of graded texts (by hash); a FAIL names something the summary leaves out."""
    graded = f"{parts.posting}\n{parts.summary}".strip() or parts.instructions
    h = stable_hash("grade", graded)
    if h % 100 < 70:
        return "PASS", _PASS_REASONS[(h // 100) % len(_PASS_REASONS)]
    groups = sections(parts.posting)
    wanted = bullets(groups.get("requirements", []) + groups.get("duties", []))
    missing = [b for b in wanted if b.lower() not in parts.summary.lower()]
    if missing:
        item = missing[(h // 100) % len(missing)]
        return "FAIL", f'The summary leaves out a point the posting states: "{item}". Add it and keep the rest.'
    if NOT_STATED in parts.summary:
        return "FAIL", f'The summary marks a field "{NOT_STATED}" although the posting may give it; check it again.'
    return "FAIL", _FAIL_REASONS[(h // 100) % len(_FAIL_REASONS)]


def generic_sentence(system: str, prompt: str) -> str:
    words = (prompt or system).split()
    snippet = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    return f'This is a simulated reply to "{snippet}".' if snippet else "This is a simulated reply."


def json_keys(text: str) -> list[str]:
    block = re.search(r"\{[^{}]*\"[A-Za-z_][\w ]{0,40}\"\s*:[^{}]*\}", text)
    return list(dict.fromkeys(re.findall(r"\"([A-Za-z_][\w ]{0,40})\"\s*:", block.group(0)))) if block else []


def build_answer(endpoint: str, body: dict) -> Answer:
    system, prompt, retry = request_texts(endpoint, body)
    parts = split_prompt(system, prompt)
    category = classify(parts.instructions)
    key = f"{parts.posting}\n{parts.summary}".strip() or f"{system}\n{prompt}"
    lo, hi = score_range(parts.instructions)
    score_key = parts.posting or key

    quality, assessment = assess(parts.posting) if word_count(parts.posting) >= 20 else (None, "")

    def score(a: int, b: int) -> int:
        """In [a, b]: from the posting's quality (+- a hash jitter), or from a hash of the text alone."""
        h = stable_hash("score", score_key)
        if b <= a:
            return a
        if quality is None:
            return a + h % (b - a + 1)
        return max(a, min(b, a + round(quality * (b - a)) + (h % 3 - 1) * max(1, (b - a) // 10)))

    verdict, reason = grade(parts)
    skills = skills_for(parts.posting, guess_role(parts)) if parts.posting else find_skills(prompt)
    if category != "grade":
        reason = assessment or "Based on the request text."
    sentence = next(iter(sentences(parts.posting)), "") or generic_sentence(system, prompt)
    fmt = body.get("format")
    if fmt == "json" or isinstance(fmt, dict):
        summary = improve(parts) if category == "improve" else summarize(parts)
        summary_text = re.sub(r"^(?:Role:.*\n)?Summary: ", "", summary)
        facts = Facts(key=key, skills=skills, summary=summary_text,
                      role=guess_role(parts), verdict=verdict, reason=reason, sentence=sentence, score=score)
        schema = fmt if isinstance(fmt, dict) else _schema_for(category, json_keys(f"{system}\n{prompt}"), lo, hi)
        value = SchemaFiller(schema, facts).fill()
        return Answer(json.dumps(value, ensure_ascii=False), category, True, retry)
    if category == "grade":
        text = f"{verdict}: {reason}"
    elif category == "improve":
        text = improve(parts)
    elif category == "summary":
        text = summarize(parts)
    elif category == "skills":
        text = ", ".join(skills) or "No specific skills are mentioned."
    elif category == "score":
        text = str(score(lo, hi))
    else:
        text = generic_sentence(system, prompt)
    return Answer(text, category, False, retry)


def _schema_for(category: str, keys: list[str], lo: int, hi: int) -> dict[str, Any]:
    if not keys:
        keys = {"grade": ["grade", "reason"], "score": ["score"], "skills": ["skills"],
                "summary": ["role", "summary"], "improve": ["role", "summary"]}.get(category, ["answer"])
    props: dict[str, Any] = {}
    for key in keys:
        low = key.lower()
        if any(w in low for w in ("score", "rating", "years", "count")):
            props[key] = {"type": "integer", "minimum": lo, "maximum": hi}
        elif "skill" in low or low.endswith("s") and low not in ("status", "reasons", "analysis"):
            props[key] = {"type": "array", "items": {"type": "string"}}
        else:
            props[key] = {"type": "string"}
    return {"type": "object", "properties": props, "required": list(props)}


def canned_answer(answers: dict[str, str], endpoint: str, body: dict) -> str | None:
    """The configured answer for a request whose text (every message, or system + prompt) contains its key."""
    if not answers:
        return None
    if endpoint == "chat":
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages") or [] if isinstance(m, dict))
    else:
        text = f"{body.get('system') or ''}\n{body.get('prompt') or ''}"
    return next((value for key, value in answers.items() if key in text), None)


def bad_answer(answer: Answer) -> str:
    """What a misbehaving model says (fault injection): broken JSON or nothing."""
    return 'Sure! Here is the JSON you asked for: {"' if answer.is_json else ""
