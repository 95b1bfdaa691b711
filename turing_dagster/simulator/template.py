"""Structured summaries for the SIMULATOR: when the instructions show a template such as

    Role: <job title>
    Key responsibilities:
    - <3 to 6 bullet points>

each field is filled by extraction from the posting (its headed sections, bullets and sentences), or
"Not stated". No language model: plain, deterministic text surgery."""

from __future__ import annotations

import re

from .text import find_skills, sentences

NOT_STATED = "Not stated"
_FIELD = re.compile(r"^\s*([A-Z][A-Za-z /&()-]{1,40}):[ \t]*(<[^>\n]*>.*)?$")
_LIST_HINT = re.compile(r"^\s*[-*]\s*<([^>\n]*)>")
_HEADING_KINDS = {  # first match wins
    "company": r"about us|about the company|company overview|^overview|who we are|quiénes somos|über uns|"
               r"qui sommes|l'entreprise|das unternehmen|sobre nosotros",
    "nice": r"nice to have|preferred|desirable|bonus|a plus|deseable|von vorteil|un plus|idealmente",
    "offer": r"what we offer|benefits|we offer|perks|offre|qué ofrecemos|wir bieten|nous (?:vous )?offrons|avantages",
    "duties": r"what you will do|what you'll do|responsibilit|duties|tasks|your role|the role|in this role|"
              r"day to day|funciones|aufgaben|missions|tu trabajo|ce que vous ferez|was du tust",
    "requirements": r"what you bring|requirement|qualification|profile|about you|you have|must have|what we look|"
                    r"looking for|skills|qué buscamos|requisitos|profil|was du mitbringst|compétences|vous avez",
}


def template_fields(instructions: str) -> list[tuple[str, bool, int]]:
    """(label, is_list, max_items) for each templated field; [] unless at least two are found."""
    lines = instructions.split("\n")
    fields = []
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if not match:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        hint = _LIST_HINT.match(nxt)
        if match.group(2):
            fields.append((match.group(1).strip(), False, 1))
        elif hint:
            numbers = [int(n) for n in re.findall(r"\d+", hint.group(1))]
            fields.append((match.group(1).strip(), True, max(numbers) if numbers else 5))
    return fields if len(fields) >= 2 else []


def sections(posting: str) -> dict[str, list[str]]:
    """Posting lines grouped by the kind of heading above them ('intro' before any heading)."""
    grouped: dict[str, list[str]] = {"intro": []}
    current = "intro"
    for raw in posting.split("\n"):
        line = raw.strip()
        if not line:
            continue
        bare = line.lstrip("#").strip().rstrip(":")
        heading = line.startswith("#") or (
            len(bare) <= 60 and len(bare.split()) <= 7 and not re.match(r"^[-*\u2022]|^\d+[.)]\s", line)
            and not bare.endswith((".", "!", "?")) and (line.endswith(":") or bare[:1].isupper())
        )
        if heading:
            low = bare.lower()
            current = next((kind for kind, rx in _HEADING_KINDS.items() if re.search(rx, low)), "other:" + low)
            grouped.setdefault(current, [])
        else:
            grouped.setdefault(current, []).append(line)
    return grouped


def bullets(lines: list[str]) -> list[str]:
    return [re.sub(r"^(?:[-*\u2022]|\d+[.)])\s*", "", ln).rstrip(".;") for ln in lines
            if re.match(r"^(?:[-*\u2022]|\d+[.)])\s", ln)]


def _company(groups: dict[str, list[str]], intro: list[str]) -> str:
    for sentence in sentences("\n".join(groups.get("company", []))):
        return sentence
    for sentence in intro[:4]:
        if re.search(r"\b(?:is|are) (?:a|an|the)\b|\bes una?\b|\bist (?:ein|eine)\b|\best une?\b", sentence) \
                and not re.match(r"(?i)(?:our client|we|this|the role|you)\b", sentence):
            return sentence
    return NOT_STATED


def _labelled(text: str, pattern: str) -> list[str]:
    """Values of "Label: value" lines in the posting whose label matches ``pattern``, template junk removed."""
    values = []
    for match in re.finditer(rf"(?im)^[-*#\s]*(?:{pattern})\s*:\s*(.+)$", text):
        value = re.sub(r"\{\{?[^{}]*\}?\}", "", match.group(1)).strip(" -–,;")
        if value:
            values.append(value)
    return values


def _location(text: str) -> str:
    found = _labelled(text, r"location|where|place of work|ort|arbeitsort|ubicación|lieu")[:1]
    place = re.search(r"\b(?:based in|located in|offices? in|con sede en|mit sitz in|basée? à|site in)\s+"
                      r"([A-Z][\w'-]+(?:(?:, | am | )[A-Z][\w'-]+){0,2})", text) or \
        re.search(r"\bin (?:our|the) ([A-Z][\w'-]+(?: [A-Z][\w'-]+)?) (?:office|hub|headquarters|HQ|site|store|"
                  r"warehouse|clinic|hotel|restaurant|branch|plant)", text)
    if place and not found:
        found.append(place.group(1))
    mode = re.search(r"(?i)\b(fully remote|remote|hybrid|on-site|onsite|work from home|teletrabajo|homeoffice)\b", text)
    if mode and not any(mode.group(1).lower() in f.lower() for f in found):
        found.append(mode.group(1).lower())
    return ", ".join(found) or NOT_STATED


def _employment(text: str) -> str:
    found = _labelled(text, r"pay|salary|compensation|hours|schedule|contract|employment(?: type)?|job type")
    kind = re.search(r"(?i)\b(full[- ]time|part[- ]time|permanent|temporary|fixed[- ]term|freelance|"
                     r"internship|apprenticeship|jornada completa|vollzeit|teilzeit|cdi|cdd)\b", text)
    if kind and not any(kind.group(1).lower() in f.lower() for f in found):
        found.insert(0, kind.group(1))
    pay = re.search(r"(?:[$€£]\s?\d[\d,.]*\s?[kK]?(?:\s?(?:-|–|to)\s?[$€£]?\s?\d[\d,.]*\s?[kK]?)?"
                    r"(?:\s?(?:per|an|a|/)\s?(?:hour|year|month|annum|hr))?)|\b\d[\d,.]*\s?(?:EUR|USD|GBP)\b", text)
    if pay and not any(pay.group(0).strip() in f for f in found):
        found.append(pay.group(0).strip())
    return "; ".join(f.rstrip(".") for f in found) or NOT_STATED


_LEAD = re.compile(r"(?i)^(?:(?:a |an )?(?:valid|active|strong|excellent|good|solid|proven|basic|fluent|previous|prior|"
                   r"hands-on|working|demonstrable)\s+)*(?:\d+\+?\s*years?(?: of)?\s+)?(?:experience (?:with|in|of)\s+|"
                   r"knowledge of\s+|ability to\s+|familiarity with\s+|proficiency in\s+|skills in\s+)?")


_NOT_A_SKILL = re.compile(r"(?i)^(?:ability|able|willing|willingness|availability|available|must be|you|vous|du |sie |"
                          r"tú|eres|ready|happy|comfortable|a passion|passion|interest)\b")


def skills_for(posting: str, role: str = "", limit: int = 8) -> list[str]:
    """Skills a posting asks for: known skills, short requirement phrases, acronyms in the requirements."""
    groups = sections(posting)
    focus = groups.get("requirements", []) + groups.get("nice", [])
    found = find_skills(posting, limit, fallback=False)
    for bullet in bullets(focus):
        if _NOT_A_SKILL.match(bullet):
            continue
        phrase = re.split(r"\s+(?:or|and|with|for|to|in|within|at)\s+|[,;(/]", _LEAD.sub("", bullet), maxsplit=1)[0].strip()
        phrase = re.sub(r"(?i)^(?:(?:a|an|the|in|of|some)\s+)+", "", phrase)
        words = phrase.split()
        if (2 <= len(words) <= 4 or (len(words) == 1 and re.search(r".[A-Z0-9]", phrase))) \
                and not re.match(r"(?i)\d|experience\b", phrase):
            found.append(phrase[0].upper() + phrase[1:])
    text = "\n".join(focus + groups.get("duties", [])) or posting
    found += re.findall(r"\b[A-Z]{2,6}s?\b", text)
    if len(found) < 3:  # duties as skills: "Draft and negotiate commercial agreements" -> "Commercial agreements"
        for duty in bullets(groups.get("duties", [])):
            rest = re.sub(r"^\w+(?:,? (?:and|or) \w+)?\s+(?:(?:on|with|to|for|in|the|our|all)\s+)*", "", duty)
            phrase = re.split(r",|\s+(?:and|or|with|for|to|in|that|on)\s+", rest, maxsplit=1)[0].strip()
            if 1 <= len(phrase.split()) <= 4 and phrase != duty:
                found.append(phrase[0].upper() + phrase[1:])
    seen, out = {w.lower() for w in role.split()} | {role.lower()}, []
    for skill in found:
        key = skill.lower()
        if key not in seen and not any(key in o.lower() or o.lower() in key for o in out):
            seen.add(key)
            out.append(skill)
    return out[:limit] or find_skills(text, limit)


_SCAM = re.compile(r"(?i)bank details|up ?front|western union|whatsapp|telegram|gift card|deposit(?:ing)? (?:a )?che(?:ck|que)|"
                   r"wire (?:money|transfer)|registration fee|starter kit|unlimited earning|no experience needed")


def assess(posting: str) -> tuple[float, str]:
    """(quality 0..1, one-sentence reason) of a posting: employer, duties, requirements, pay, place, scam signs."""
    groups = sections(posting)
    named = _company(groups, sentences("\n".join(groups.get("intro", [])))) != NOT_STATED
    duties, needs = len(bullets(groups.get("duties", []))), len(bullets(groups.get("requirements", [])))
    pay = bool(_labelled(posting, r"pay|salary|compensation") or re.search(r"[$€£]\s?\d|\d\s?(?:EUR|USD|GBP)\b", posting))
    place = _location(posting) != NOT_STATED
    scam = _SCAM.search(posting)
    quality = 0.25 + 0.2 * named + 0.15 * (duties >= 3) + 0.15 * (needs >= 3) + 0.1 * pay + 0.1 * place
    quality = max(0.0, min(1.0, quality - (0.5 if scam else 0.0)))
    parts = ["a named employer" if named else "no identifiable employer",
             f"{duties} specific duties" if duties else "no specific duties",
             f"{needs} requirements" if needs else "no clear requirements"]
    reason = f"The posting has {', '.join(parts[:2])} and {parts[2]}"
    reason += "; pay is stated." if pay else "; pay is not stated."
    if scam:
        reason += f' It also shows a typical scam sign ("{scam.group(0)}").'
    return quality, reason


def fill_template(fields: list[tuple[str, bool, int]], posting: str, role: str, limit_bonus: int = 0) -> str:
    groups = sections(posting)
    intro = sentences("\n".join(groups.get("intro", [])))
    prose = sentences(posting)
    out = []
    for label, is_list, most in fields:
        low = label.lower()
        if is_list:
            if re.search(r"responsib|dut|task|do\b", low):
                items = bullets(groups.get("duties", [])) or \
                    [s.rstrip(".") for s in prose if not s.startswith(tuple(intro[:1]))][:3]
            elif re.search(r"require|qualif|skill|profile|need", low):
                items = bullets(groups.get("requirements", [])) or find_skills(posting, 5)
            elif re.search(r"benefit|offer|perk", low):
                items = bullets(groups.get("offer", []))
            else:
                items = []
            items = items[: max(1, min(most, 4 + limit_bonus))] or [NOT_STATED]
            out.append(f"{label}:\n" + "\n".join(f"- {item}" for item in items))
            continue
        if re.search(r"role|title|position|job", low):
            value = role or NOT_STATED
        elif re.search(r"company|employer|organi[sz]ation", low):
            value = _company(groups, intro)
        elif re.search(r"location|place|where|remote", low):
            value = _location(posting)
        elif re.search(r"employment|contract|pay|salary|hours|type", low):
            value = _employment(posting)
        else:
            value = NOT_STATED
        out.append(f"{label}: {value}")
    return "\n".join(out)
