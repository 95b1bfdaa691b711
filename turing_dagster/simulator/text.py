"""Text helpers for the SIMULATOR's canned answers: split a prompt into instructions and posting text,
pick sentences and skills. Everything is deterministic (sha256, never Python's salted ``hash``)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

_BLOCK_TAGS = re.compile(r"(?i)</?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|header|footer)\b[^>]*>")
_HTML_TAG = re.compile(
    r"(?i)<!--.*?-->|</?(?:a|b|i|u|em|strong|span|font|small|big|sup|sub|code|pre|td|th|tbody|thead|img|hr|"
    r"blockquote|label|input|button|form|meta|link|html|body|head|title|nav|main|aside|center|mark|s)\b[^<>]{0,400}>"
)


def stable_hash(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big")


def embedding(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for ``text`` (the SIMULATOR's stand-in for an embedding model)."""
    raw, counter = b"", 0
    while len(raw) < dims * 2:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [int.from_bytes(raw[2 * i : 2 * i + 2], "big") / 32767.5 - 1.0 for i in range(dims)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in values]


def strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text or "")
    text = re.sub(r"(?i)<li\b[^>]*>\s*", "\n- ", text)
    text = _BLOCK_TAGS.sub("\n", text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text).replace("\r", "\n").replace("\xa0", " ")
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


_LABEL = re.compile(r"^(?:[#>*]\s*)*([A-Za-z][A-Za-z0-9 _()/-]{0,38}?)\s*:(?!//)\s*(.*)$")
_META = {"id", "posting id", "posting_id", "job id", "job_id", "url", "link", "company", "location",
         "date", "posted", "salary", "source", "wave", "language", "lang"}
_ROLE = {"title", "job title", "job_title", "role", "position", "job"}
_SUMMARY = re.compile(r"^(?:current |previous |original |draft |extracted |existing |the )?summary$|^extracted_summary$")
_FEEDBACK = re.compile(r"feedback|grade|grader|grading|verdict|review|critique|comment|complaint|error|issue|problem")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2013]|\d+[.)])\s+")
_INSTRUCTION_START = re.compile(
    r"(?i)^(?:you are|you're|your (?:task|job|answer|previous)|you must|you should|"
    r"you (?:grade|summari[sz]e|score|rate|rewrite|improve|extract|review|evaluate|check|will be given)|"
    r"please|return|answer|respond|reply|output|only|do not|don't|never|always|if (?:the|there|it|no)|"
    r"grade|summari[sz]e|score|rate|rewrite|improve|extract|list|given|based on|using|read|evaluate|"
    r"check|write|make|keep|format|use|the (?:answer|output|response) must|that (?:answer|output) )\b"
)
_INSTRUCTION_WORDS = re.compile(r"\bPASS\b|\bFAIL\b|\[NO_CONTENT\]|\bJSON\b|\bjson\b|\b0\s*(?:-|to)\s*100\b")


@dataclass
class PromptParts:
    instructions: str = ""
    posting: str = ""
    role: str = ""
    summary: str = ""
    feedback: str = ""


_QUOTED = re.compile(r'(?s)("""|```)[^\n]*\n?(.*?)\1')


def split_prompt(system: str, prompt: str) -> PromptParts:
    """Separate the instructions (system prompt included) from the data in ``prompt``: the posting, a summary
    under review and a reviewer's feedback. Data in triple-quoted blocks is sorted by the label before it;
    without such blocks, line heuristics decide."""
    blocks = list(_QUOTED.finditer(prompt or ""))
    if not blocks:
        return _split_lines(system, prompt)
    parts = PromptParts()
    outside, posting, cursor = [], [], 0
    for block in blocks:
        before = prompt[cursor:block.start()]
        outside.append(before)
        label = next((ln.strip().lower() for ln in reversed(before.split("\n")) if ln.strip()), "")
        text = strip_html(block.group(2)).strip()
        if "summary" in label and "posting" not in label:
            parts.summary = text
        elif _FEEDBACK.search(label):
            parts.feedback = text
        else:
            posting.append(text)
        cursor = block.end()
    outside.append(prompt[cursor:])
    instructions = [system or ""]
    for line in "".join(outside).split("\n"):
        label = _LABEL.match(line.strip())
        value = label.group(2).strip() if label else ""
        if label and label.group(1).strip().lower() in _ROLE and value and not value.startswith("<"):
            parts.role = parts.role or value
        elif label and label.group(1).strip().lower() in _META and value and not value.startswith("<"):
            continue
        else:
            instructions.append(line)
    parts.instructions = "\n".join(instructions).strip()
    parts.posting = "\n\n".join(p for p in posting if p).strip()
    return parts


def _split_lines(system: str, prompt: str) -> PromptParts:
    parts = PromptParts()
    instructions, posting, summary, feedback = [system or ""], [], [], []
    capture: list[str] | None = None
    for raw in strip_html(prompt).split("\n"):
        line = raw.strip()
        if not line:
            capture = None
            posting.append("")
            continue
        label = _LABEL.match(line) if not _BULLET.match(line) else None
        name = label.group(1).strip().lower() if label else ""
        value = label.group(2).strip() if label else ""
        if label and value.startswith("<"):
            instructions.append(line)  # a template line: "Role: <job title>"
            continue
        if label and len(name.split()) <= 4:
            if name in _META:
                continue
            if name in _ROLE:
                parts.role = parts.role or value
                continue
            if _SUMMARY.match(name):
                summary = [value] if value else []
                capture = summary
                continue
            if _FEEDBACK.search(name):
                feedback.append(value)
                capture = feedback
                continue
            instructions.append(name + ":")
            capture = None
            if value and (len(value) > 60 or not _is_instruction(value)):
                posting.append(value)
            elif value:
                instructions.append(value)
            continue
        if capture is not None:
            capture.append(line)
        elif _is_instruction(line):
            instructions.append(line)
        else:
            posting.append(line)
    parts.instructions = "\n".join(s for s in instructions if s).strip()
    parts.posting = re.sub(r"\n{3,}", "\n\n", "\n".join(posting)).strip()
    parts.summary = "\n".join(s for s in summary if s).strip()
    parts.feedback = " ".join(s for s in feedback if s).strip()
    return parts


def _is_instruction(line: str) -> bool:
    if _BULLET.match(line):
        return False
    return bool(_INSTRUCTION_START.match(line)) or (len(line) < 200 and bool(_INSTRUCTION_WORDS.search(line)))


_BOILERPLATE = re.compile(
    r"(?i)\b(apply|click|cookie|equal opportunity|privacy|http|www\.|©|copyright|all rights|"
    r"subscribe|newsletter|share this|log ?in)\b"
)


def sentences(text: str) -> list[str]:
    """Meaningful sentences (5-60 words, no boilerplate), in order, bullets stripped."""
    found = []
    for block in strip_html(text).split("\n"):
        block = _BULLET.sub("", block).strip()
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", block):
            sentence = sentence.strip(" -*\u2022")
            words = sentence.split()
            if 5 <= len(words) <= 60 and not _BOILERPLATE.search(sentence):
                found.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return found


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9]{2,}", text or ""))


SKILLS = [
    "Python", "Java", "JavaScript", "TypeScript", "SQL", "PostgreSQL", "MySQL", "MongoDB", "Redis",
    "C++", "C#", ".NET", "Go", "Rust", "Scala", "Kotlin", "Swift", "PHP", "Ruby", "R", "MATLAB",
    "HTML", "CSS", "React", "Angular", "Vue", "Node.js", "Django", "Flask", "FastAPI", "Spring",
    "AWS", "Azure", "GCP", "Google Cloud", "Docker", "Kubernetes", "Terraform", "Ansible", "Linux",
    "Git", "CI/CD", "Jenkins", "REST APIs", "GraphQL", "Microservices", "Kafka", "Spark", "Hadoop",
    "Airflow", "dbt", "Snowflake", "Databricks", "Pandas", "NumPy", "PyTorch", "TensorFlow",
    "Machine Learning", "Deep Learning", "NLP", "Data Analysis", "Data Engineering", "Data Science",
    "Statistics", "ETL", "Data Modeling", "Power BI", "Tableau", "Looker", "Excel", "SAP",
    "Salesforce", "Jira", "Confluence", "Figma", "UX Design", "UI Design", "SEO", "Google Analytics",
    "Agile", "Scrum", "Kanban", "DevOps", "Security", "Networking", "Testing", "Test Automation",
    "Selenium", "Project Management", "Product Management", "Stakeholder Management",
    "Communication", "Teamwork", "Leadership", "Problem Solving", "Time Management", "Mentoring",
    "Negotiation", "Customer Service", "Sales", "Marketing", "Accounting", "Budgeting", "Forecasting",
    "Financial Analysis", "Risk Management", "Compliance", "Auditing", "Recruiting", "Payroll",
    "Logistics", "Supply Chain", "Procurement", "Nursing", "Patient Care", "Teaching", "Writing",
    "Editing", "Research", "Presentation", "Attention to Detail", "Critical Thinking", "English",
    "German", "French", "Spanish",
]
_ALIASES = {"k8s": "Kubernetes", "postgres": "PostgreSQL", "golang": "Go", "ml": "Machine Learning",
            "scikit-learn": "Machine Learning", "ms excel": "Excel", "team player": "Teamwork",
            "problem-solving": "Problem Solving", "communication skills": "Communication",
            "gcp": "GCP", "pyspark": "Spark", "restful": "REST APIs", "rest api": "REST APIs"}
_CASE_SENSITIVE = {"Go", "R", "SAP", "SQL", "ETL", "NLP", "English", "German", "French", "Spanish", "Writing",
                   "Sales", "Marketing", "Security", "Testing", "Research", "Teaching", "Editing"}


def _pattern(term: str) -> re.Pattern:
    flags = 0 if term in _CASE_SENSITIVE else re.IGNORECASE
    return re.compile(r"(?<![\w+#.])" + re.escape(term) + r"(?![\w+#]|\.\w)", flags)


# (skill, the term lower-cased, its pattern): a match of an ASCII term implies that the lower-cased text
# holds the lower-cased term, unless the text has one of the 4 characters re.IGNORECASE matches to an
# ASCII letter; that substring test is far cheaper than the search, and most terms are absent from a posting
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")  # İ ı ſ K (Kelvin): found by testing every code point
_SKILL_PATTERNS = [(s, s.lower(), _pattern(s)) for s in SKILLS] + [(s, a.lower(), _pattern(a)) for a, s in _ALIASES.items()]
_STOP = {"The", "We", "Our", "You", "Your", "This", "That", "These", "Job", "Role", "Company", "Team", "If",
         "In", "As", "At", "For", "And", "With", "Are", "Is", "Will", "Who", "What", "Why", "How", "Please",
         "Apply", "About", "Responsibilities", "Requirements", "Benefits", "Summary", "Description", "It",
         "They", "Us", "A", "An", "To", "Of", "On", "Join", "Join Us", "Must", "Nice", "Plus", "Bonus"}


def find_skills(text: str, limit: int = 8, fallback: bool = True) -> list[str]:
    """Known skills in order of appearance; then (``fallback``) capitalised phrases."""
    text = strip_html(text)
    lowered = None if _FOLDS_TO_ASCII.intersection(text) else text.lower()  # None: every pattern searched
    hits: dict[str, int] = {}
    for skill, needle, pattern in _SKILL_PATTERNS:
        if lowered is not None and needle.isascii() and needle not in lowered:
            continue
        match = pattern.search(text)
        if match and (skill not in hits or match.start() < hits[skill]):
            hits[skill] = match.start()
    found = [s for s, _ in sorted(hits.items(), key=lambda kv: kv[1])]
    if fallback and len(found) < limit:
        seen = {s.lower() for s in found}
        for match in re.finditer(r"\b[A-Z][a-zA-Z0-9+#]{2,}(?:[ \t]+[A-Z][a-zA-Z0-9+#]{2,}){0,2}", text):
            phrase, before = match.group(0), text[: match.start()].rstrip(" \t-*\u2022")
            if not before or before[-1] in ".!?:\n" or phrase.split()[0] in _STOP or phrase.lower() in seen:
                continue
            seen.add(phrase.lower())
            found.append(phrase)
            if len(found) >= limit:
                break
    return found[:limit]


def guess_role(parts: PromptParts) -> str:
    if parts.role:
        return parts.role.strip().rstrip(".")
    text = parts.posting
    match = _ROLE_NOUN.search(text)
    if match:
        return " ".join(w if w[:1].isupper() else w.capitalize() for w in match.group(1).split())
    first = next((line.strip().lstrip("# ") for line in text.split("\n") if line.strip()), "")
    if first and len(first) <= 70 and not re.search(r"[.!?:,{}]$|[{}!]", first) and len(first.split()) <= 8 \
            and not re.search(r"(?i)\babout\b|overview|who we are|description|company|the role|summary", first):
        return first
    match = re.search(r"\b(?:as an?|hiring an?|seeking an?|looking for an?|for an?)\s+((?:[A-Z][\w+/&-]*\s?){1,5})", text)
    return match.group(1).strip() if match else ""


_ROLE_NOUN = re.compile(
    r"(?i)\b(?:as|hiring|seeking|looking for|recruiting|join us as)\s+(?:an?|our|the)\s+(?:new\s+)?"
    r"((?:[\w+#/&.-]+\s){0,3}?(?:engineer|developer|manager|analyst|designer|scientist|specialist|consultant|"
    r"administrator|assistant|nurse|teacher|technician|operator|coordinator|director|lead|architect|officer|"
    r"representative|accountant|intern|clerk|driver|agent|writer|editor|recruiter|advisor|associate|"
    r"executive|worker|programmer|tester|owner|controller|planner|buyer|chef|cook|cashier))\b"
)
