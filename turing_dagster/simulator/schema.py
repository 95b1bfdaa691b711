"""JSON answers for the SIMULATOR: an instance of the requested JSON schema, filled with deterministic,
plausible values (skills from the posting, a score from a hash of the text, the summary, a verdict...)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .text import stable_hash

GENERIC_SKILLS = ["Communication", "Teamwork", "Problem Solving", "Attention to Detail", "Time Management",
                  "Critical Thinking", "Adaptability", "Organisation"]


@dataclass
class Facts:
    """What the answer is about; every value is derived from the request text."""

    key: str  # text whose hash drives every choice
    skills: list[str] = field(default_factory=list)
    summary: str = ""
    role: str = ""
    verdict: str = "PASS"
    reason: str = ""
    sentence: str = ""
    score: Callable[[int, int], int] | None = None

    def pick(self, name: str, n: int) -> int:
        return stable_hash(self.key, name) % max(1, n)


def _has(name: str, *words: str) -> bool:
    return any(w in name for w in words)


class SchemaFiller:
    def __init__(self, root: Any, facts: Facts):
        self.root = root if isinstance(root, dict) else {}
        self.facts = facts

    def fill(self) -> Any:
        return self.value(self.root, "", 0)

    def resolve(self, schema: Any) -> dict:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            node: Any = self.root
            ref = schema["$ref"]
            for part in ref.lstrip("#").strip("/").split("/") if ref.startswith("#") else []:
                node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema, seen = {**(node if isinstance(node, dict) else {}), **extra}, seen + 1
        if schema is True or not isinstance(schema, dict):
            return {}
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part)
                merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
                merged["required"] = list(merged.get("required", [])) + list(part.get("required", []))
                merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
            schema = merged
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                chosen = next((o for o in options if o.get("type") != "null"), options[0] if options else {})
                schema = {**{k: v for k, v in schema.items() if k != key}, **chosen}
        return schema

    def value(self, schema: Any, name: str, depth: int, index: int = 0) -> Any:
        schema = self.resolve(schema)
        low = name.lower()
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.enum(schema["enum"], low)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if depth > 8:
            return None if kind == "null" else {} if kind == "object" else [] if kind == "array" else ""
        return getattr(self, "k_" + kind, self.k_string)(schema, low, depth, index)

    def enum(self, options: list, name: str) -> Any:
        verdicts = {str(o).lower(): o for o in options}
        if self.facts.verdict.lower() in verdicts:
            return verdicts[self.facts.verdict.lower()]
        positive = next((verdicts[k] for k in ("pass", "yes", "true", "accept", "approved", "good") if k in verdicts), None)
        negative = next((verdicts[k] for k in ("fail", "no", "false", "reject", "rejected", "bad") if k in verdicts), None)
        if positive is not None and negative is not None:
            return positive if self.facts.verdict == "PASS" else negative
        return options[self.facts.pick(name, len(options))]

    def k_null(self, schema: dict, name: str, depth: int, index: int) -> None:
        return None

    def k_object(self, schema: dict, name: str, depth: int, index: int) -> dict:
        props = schema.get("properties") or {}
        out = {key: self.value(sub, key, depth + 1, index) for key, sub in props.items()}
        for key in schema.get("required") or []:
            if key not in out:
                out[key] = self.value({}, key, depth + 1, index)
        if not out and ("skill" in name):
            out = {"name": self.skill(index)}
        return out

    def k_array(self, schema: dict, name: str, depth: int, index: int) -> list:
        items = schema.get("items")
        prefix = schema.get("prefixItems") or []
        lo = int(schema.get("minItems", 0))
        hi = int(schema.get("maxItems", 10**6))
        if "skill" in name:
            wanted = max(3, min(8, len(self.facts.skills)))
        else:
            wanted = 3 + self.facts.pick(name + "#n", 6)
        count = max(lo, min(hi, wanted))
        out: list = [self.value(p, name, depth + 1, i) for i, p in enumerate(prefix[:count])]
        item_schema = items if isinstance(items, dict) else {}
        for i in range(len(out), count):
            if "skill" in name and self.resolve(item_schema).get("type", "string") == "string" \
                    and not self.resolve(item_schema).get("enum"):
                out.append(self.skill(i))
            else:
                out.append(self.value(item_schema, name.rstrip("s") or name, depth + 1, i))
        if schema.get("uniqueItems"):
            out = [v if not isinstance(v, str) or out.index(v) == i else f"{v} {i + 1}" for i, v in enumerate(out)]
        return out

    def skill(self, index: int) -> str:
        pool = self.facts.skills + [s for s in GENERIC_SKILLS if s not in self.facts.skills]
        return pool[index % len(pool)]

    def k_boolean(self, schema: dict, name: str, depth: int, index: int) -> bool:
        if _has(name, "pass", "valid", "approved"):
            return self.facts.verdict == "PASS"
        return bool(self.facts.pick(f"{name}#{index}", 2))

    def k_integer(self, schema: dict, name: str, depth: int, index: int) -> int:
        lo, hi = self.bounds(schema, name, integer=True)
        if _has(name, "score", "rating", "rank") and self.facts.score is not None:
            value = self.facts.score(int(lo), int(hi))
        else:
            value = int(lo) + self.facts.pick(f"{name}#{index}", int(hi) - int(lo) + 1)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            value = min(int(hi) - int(hi) % step, max(value - value % step, int(lo) + (-int(lo)) % step))
        return int(value)

    def k_number(self, schema: dict, name: str, depth: int, index: int) -> float:
        lo, hi = self.bounds(schema, name, integer=False)
        if _has(name, "score", "rating") and self.facts.score is not None and hi - lo >= 1:
            return float(self.facts.score(int(-(-lo // 1)), int(hi // 1)))
        frac = self.facts.pick(f"{name}#{index}", 1001) / 1000
        return round(lo + (hi - lo) * frac, 2) if hi > lo else float(lo)

    def bounds(self, schema: dict, name: str, integer: bool) -> tuple[float, float]:
        eps = 1 if integer else 0.01
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
            lo = schema["exclusiveMinimum"] + eps
        if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
            hi = schema["exclusiveMaximum"] - eps
        if lo is None and hi is None:
            lo, hi = (0, 100) if _has(name, "score", "percent", "rating") else \
                (1, 10) if _has(name, "year", "level", "count", "number") else (0, 100)
        elif lo is None:
            lo = min(0, hi)
        elif hi is None:
            hi = lo + 100
        if integer:
            lo, hi = -(-lo // 1), hi // 1
        return (lo, max(lo, hi))

    def k_string(self, schema: dict, name: str, depth: int, index: int) -> str:
        fmt = schema.get("format")
        f = self.facts
        if fmt == "date":
            value = "2025-01-15"
        elif fmt == "date-time":
            value = "2025-01-15T09:00:00Z"
        elif fmt == "email":
            value = "jobs@example.com"
        elif fmt in ("uri", "url"):
            value = f"https://example.com/jobs/{stable_hash(f.key) % 100000}"
        elif fmt == "uuid":
            value = str(uuid.UUID(int=stable_hash(f.key, name) << 64 | stable_hash(name, f.key)))
        elif _has(name, "skill") or (name in ("name", "label") and depth > 1):
            value = self.skill(index)
        elif _has(name, "summary", "description", "abstract", "overview"):
            value = f.summary or f.sentence
        elif _has(name, "role", "title", "position", "job"):
            value = f.role or "Not specified"
        elif _has(name, "reason", "explanation", "rationale", "justification", "feedback", "comment", "why"):
            value = f.reason or f.sentence
        elif _has(name, "grade", "verdict", "result", "decision", "status"):
            value = f.verdict
        elif _has(name, "level", "proficiency", "seniority"):
            value = ["basic", "intermediate", "advanced", "expert"][f.pick(f"{name}#{index}", 4)]
        elif _has(name, "language"):
            value = "English"
        elif _has(name, "score"):
            value = str(f.score(0, 100) if f.score else 50)
        else:
            value = f.sentence
        lo, hi = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10**6))
        if len(value) < lo:
            value = (value + " " + f.sentence).strip().ljust(lo, ".")
        return value[:hi]
