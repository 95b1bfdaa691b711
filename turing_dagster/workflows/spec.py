"""Pydantic models of a workflow definition (`workflow_defs/*.yaml`) and its graph queries.

The models check each field on its own; rules that span fields or conversations
(goto targets, placeholders, duplicates, ...) live in `rules.py`, applied by the loader.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from turing_dagster.workflows.fields import check_regex, parse_json_path
from turing_dagster.workflows.placeholders import find_placeholders, turn_number
from turing_dagster.workflows.qa_spec import QASpec
from turing_dagster.workflows.turns import Turn, ValidateSpec, format_value

END = "END"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PYTHON_PREFIX = "python:"

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
PYTHON_ACTOR_RE = re.compile(rf"^python:({_DOTTED}):([A-Za-z_][A-Za-z0-9_]*)$")
# Ollama model references: `gemma3:4b`, `qwen2.5`, `library/x:tag`, `hf.co/user/repo:Q4_K_M`.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
OLLAMA_MODEL_RE = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})*(?::{_SEGMENT})?$")

# YAML hands us ints; strict keeps `true` or `"3"` from passing as ids.
StrictInt = Annotated[int, Strict()]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class FieldValueError(ValueError):
    """A model-level ValueError that names the field it is about, so the loader can point at it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JsonCondition(_Model):
    path: str
    equals: Any = None

    @field_validator("path")
    @classmethod
    def _path_parses(cls, value: str) -> str:
        parse_json_path(value)
        return value


class BranchCondition(_Model):
    """Exactly one of `contains`, `regex`, `json`."""

    contains: str | None = None
    regex: str | None = None
    json_: JsonCondition | None = Field(None, alias="json")

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return check_regex(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> BranchCondition:
        conditions = {"contains": self.contains, "regex": self.regex, "json": self.json_}
        given = [key for key, value in conditions.items() if value is not None]
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise ValueError(f"needs exactly one of contains, regex, json (got {got})")
        return self


class BranchRule(_Model):
    when: BranchCondition | None = None
    goto: str


def _checked_options(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Ollama options go to the server unchecked, except those Turing itself reckons with: `num_ctx` (the
    context guard measures every prompt against it) and `num_predict` (the room kept for the answer)."""
    for key, low in (("num_ctx", 1), ("num_predict", -2)):  # num_predict: -1 unlimited, -2 fill the context
        got = (value or {}).get(key)
        if got is not None and (not isinstance(got, int) or isinstance(got, bool) or got < low):
            raise ValueError(f"{key} must be a whole number >= {low}, got {got!r}")
    return value


class Defaults(_Model):
    options: dict[str, Any] = Field(default_factory=dict)
    retries: StrictInt = Field(2, ge=0)

    _options = field_validator("options")(_checked_options)


class WaveSettings(_Model):
    """When the new-postings sensor admits a wave: `min_size` pending, or the oldest waited `max_wait_seconds`."""

    min_size: StrictInt = Field(1, ge=1)
    max_wait_seconds: float = Field(300, ge=0)
    max_size: StrictInt = Field(1000, ge=1)

    @model_validator(mode="after")
    def _sizes(self) -> WaveSettings:
        if self.max_size < self.min_size:
            raise FieldValueError("max_size", f"must be >= min_size ({self.min_size}), got {self.max_size}")
        return self


class Conversation(_Model):
    conversation_id: StrictInt
    name: Name
    execution_order: StrictInt = Field(ge=0)
    actor: str
    system: str | None = None
    prompt: str | None = None
    instructions: list[Turn] | None = None  # instead of `prompt`: the turns of one chat
    format: Literal["json"] | dict[str, Any] | None = None
    # `validate` would shadow BaseModel.validate; dump with by_alias=True to get the YAML key back.
    checks: ValidateSpec | None = Field(None, alias="validate")
    save_to: str | None = None
    next: list[BranchRule] | None = None
    options: dict[str, Any] | None = None
    retries: StrictInt | None = Field(None, ge=0)
    qa: QASpec | None = None  # what `turing qa` and the asset checks measure beyond format and validate
    # false: always ask the model, never an answer stored for the same request (sampling, freshness)
    reuse: bool = True
    # a prompt too long for the model's context: fail the posting's step, or cut the longest posting field
    overflow: Literal["fail", "shorten"] = "fail"

    _options = field_validator("options")(_checked_options)

    @field_validator("actor")
    @classmethod
    def _actor_wellformed(cls, value: str) -> str:
        if value.startswith(PYTHON_PREFIX):
            if not PYTHON_ACTOR_RE.match(value):
                raise ValueError(f"malformed python actor {value!r}: expected python:package.module:function")
        elif not OLLAMA_MODEL_RE.match(value):
            raise ValueError(
                f"malformed actor {value!r}: expected an Ollama model (e.g. gemma3:4b)"
                " or python:package.module:function"
            )
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _format_wellformed(cls, value: Any) -> Any:
        return format_value(value)

    @property
    def turns(self) -> list[Turn]:
        """What is asked, in order: the `instructions`, or the one `prompt` with `format` and `validate`."""
        if self.instructions:
            return self.instructions
        return [Turn.model_construct(prompt=self.prompt or "", format=self.format, checks=self.checks)]

    def templates(self) -> list[tuple[str, str | None, int | None]]:
        """(field, text, turn number or None) of every text that may hold placeholders."""
        found: list[tuple[str, str | None, int | None]] = [("system", self.system, None), ("prompt", self.prompt, None)]
        for i, turn in enumerate(self.instructions or []):
            found.append((f"instructions[{i}].prompt", turn.prompt, i + 1))
        return found

    @property
    def is_python(self) -> bool:
        return self.actor.startswith(PYTHON_PREFIX)

    @property
    def model(self) -> str | None:
        """The Ollama model of an LLM conversation."""
        return None if self.is_python else self.actor

    @property
    def python_target(self) -> tuple[str, str] | None:
        """(module, function) of a python actor."""
        match = PYTHON_ACTOR_RE.match(self.actor)
        return (match.group(1), match.group(2)) if match else None


class Workflow(_Model):
    workflow_id: StrictInt
    name: Name
    description: str = ""
    defaults: Defaults = Field(default_factory=Defaults)
    waves: WaveSettings = Field(default_factory=WaveSettings)
    conversations: list[Conversation]
    source_file: str = Field("", exclude=True)

    @property
    def ordered(self) -> list[Conversation]:
        return sorted(self.conversations, key=lambda c: (c.execution_order, c.conversation_id))

    def conversation(self, name: str) -> Conversation:
        for conv in self.conversations:
            if conv.name == name:
                return conv
        raise KeyError(f"no conversation {name!r} in workflow {self.name!r}")

    def by_id(self, conversation_id: int) -> Conversation:
        for conv in self.conversations:
            if conv.conversation_id == conversation_id:
                return conv
        raise KeyError(f"no conversation_id {conversation_id} in workflow {self.name!r}")

    @property
    def entry(self) -> Conversation:
        """The unique conversation with the lowest execution_order."""
        lowest = min(c.execution_order for c in self.conversations)
        first = [c for c in self.conversations if c.execution_order == lowest]
        if len(first) != 1:
            raise ValueError(f"ambiguous entry: {', '.join(c.name for c in first)} share execution_order {lowest}")
        return first[0]

    def _following(self, name: str) -> list[Conversation]:
        order = self.conversation(name).execution_order
        later = [c for c in self.conversations if c.execution_order > order]
        if not later:
            return []
        nearest = min(c.execution_order for c in later)
        return [c for c in later if c.execution_order == nearest]

    def default_next(self, name: str) -> str | None:
        """The conversation at the next higher execution_order; None means END."""
        following = self._following(name)
        if len(following) > 1:
            raise ValueError(
                f"ambiguous default next after {name!r}: {', '.join(c.name for c in following)}"
                f" share execution_order {following[0].execution_order}"
            )
        return following[0].name if following else None

    def successors(self, name: str) -> list[str]:
        """Every conversation a posting can go to after `name` (END excluded)."""
        conv = self.conversation(name)
        if conv.next is None:
            following = self.default_next(name)
            return [following] if following else []
        return list(dict.fromkeys(r.goto for r in conv.next if r.goto != END))

    def predecessors(self, name: str) -> list[str]:
        return [c.name for c in self.ordered if name in self.successors(c.name)]

    def placeholder_sources(self, name: str) -> set[str]:
        """Conversations whose outputs the prompt or system of `name` refers to."""
        conv = self.conversation(name)
        return {
            alt
            for _, text, turn in conv.templates()
            for ph in find_placeholders(text)
            for alt in ph.conversation_names
            if turn is None or turn_number(alt) is None
        }

    def upstream(self, name: str) -> set[str]:
        """All conversations `name` depends on: predecessors and placeholder sources, transitively."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            for dep in {*self.predecessors(current), *self.placeholder_sources(current)}:
                if dep not in seen and dep != name:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    def options_for(self, name: str) -> dict[str, Any]:
        return {**self.defaults.options, **(self.conversation(name).options or {})}

    def retries_for(self, name: str) -> int:
        retries = self.conversation(name).retries
        return self.defaults.retries if retries is None else retries
