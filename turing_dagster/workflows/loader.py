"""Loads workflow definitions from YAML and rejects bad ones with one line per problem.

Each error names the file, the conversation (by its `name` in the YAML, else `#N`, 1-based)
and the field, so `turing validate` can point at exactly what to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from turing_dagster import settings
from turing_dagster.workflows.qa_spec import QASpec
from turing_dagster.workflows.rules import check_conversations, lookalike_warnings
from turing_dagster.workflows.spec import (
    BranchCondition,
    BranchRule,
    Conversation,
    Defaults,
    FieldValueError,
    JsonCondition,
    Turn,
    ValidateSpec,
    WaveSettings,
    Workflow,
)

YAML_SUFFIXES = (".yaml", ".yml")
_MODELS: tuple[type[BaseModel], ...] = (
    Workflow, Conversation, BranchRule, BranchCondition, JsonCondition, ValidateSpec, Defaults, WaveSettings,
    Turn, QASpec,
)
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
_KNOWN_KEYS = sorted({f.alias or n for m in _MODELS for n, f in m.model_fields.items()} - {"source_file"})


@dataclass(frozen=True)
class WorkflowError:
    """One problem in one file; `conversation` is None for workflow-level problems."""

    file: str
    conversation: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = "workflow" if self.conversation is None else f"conversation '{self.conversation}'"
        # one line per error, whatever a YAML value or exception message contained
        return re.sub(r"\s*\n\s*", " ", f"{self.file}: {where}: {self.field}: {self.message}")


class WorkflowValidationError(Exception):
    """A definition (or a set of them) is invalid; `.errors` lists every problem found."""

    def __init__(self, errors: list[WorkflowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of silently keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys are left for pydantic to reject
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _field_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            path += f".{part}" if path else part
        # other parts name union members or validators ("literal['json']", "function-after[...]"): noise
    return path


def _message(error: dict[str, Any]) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1, cutoff=0.75)
        return f"unknown key{f' (did you mean {close[0]!r}?)' if close else ''}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(error['ctx'].values()))}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"must match [a-z][a-z0-9_]* (lowercase letters, digits, underscores), got {value!r}"
    shown = repr(value)
    return f"{error['msg']}, got {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _pydantic_errors(exc: ValidationError, file: str, conversation: str | None) -> list[WorkflowError]:
    found: dict[str, WorkflowError] = {}
    for error in exc.errors():
        loc = list(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldValueError):
            loc.append(cause.field)
        field = _field_path(loc)
        if error["type"] == "extra_forbidden":  # name the key even when it is not an identifier
            field = f"{_field_path(loc[:-1])}.{loc[-1]}".lstrip(".")
        field = field or "(definition)"
        # a value failing several union members yields several errors for one field: keep the first
        found.setdefault(field, WorkflowError(file, conversation, field, _message(error)))
    return list(found.values())


def _label(raw: Any, index: int) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) and name else f"#{index + 1}"


def _read_yaml(path: Path, file: str) -> tuple[Any, list[WorkflowError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [WorkflowError(file, None, "file", f"cannot read: {exc}")]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        return None, [WorkflowError(file, None, "yaml", f"syntax error at {where}: {problem}")]


def parse_workflow(data: Any, file: str = "<inline>") -> tuple[Workflow | None, list[WorkflowError]]:
    """Validate an already-parsed definition; returns the Workflow (None on any error) and every error."""
    if data is None:
        return None, [WorkflowError(file, None, "file", "is empty; expected a workflow mapping")]
    if not isinstance(data, dict):
        return None, [WorkflowError(file, None, "file", f"top level must be a mapping, got {type(data).__name__}")]
    errors: list[WorkflowError] = []
    header = {k: v for k, v in data.items() if k != "conversations"}
    if "source_file" in header:
        errors.append(WorkflowError(file, None, "source_file", "unknown key"))
        header.pop("source_file")
    try:
        Workflow.model_validate({**header, "conversations": []})
    except ValidationError as exc:
        errors += _pydantic_errors(exc, file, None)

    raw_convs = data.get("conversations")
    if raw_convs is None:
        errors.append(WorkflowError(file, None, "conversations", "required key is missing"))
        raw_convs = []
    elif not isinstance(raw_convs, list):
        errors.append(WorkflowError(file, None, "conversations", "must be a list of conversations"))
        raw_convs = []
    elif not raw_convs:
        errors.append(WorkflowError(file, None, "conversations", "must not be empty"))

    parsed: list[tuple[int, str, Conversation]] = []
    for index, raw in enumerate(raw_convs):
        label = _label(raw, index)
        if not isinstance(raw, dict):
            errors.append(WorkflowError(file, label, "(conversation)", f"must be a mapping, got {type(raw).__name__}"))
            continue
        try:
            parsed.append((index, label, Conversation.model_validate(raw)))
        except ValidationError as exc:
            errors += _pydantic_errors(exc, file, label)

    known = {raw["name"] for raw in raw_convs if isinstance(raw, dict) and isinstance(raw.get("name"), str)}
    checked = check_conversations([(label, conv) for _, label, conv in parsed], known, len(parsed) == len(raw_convs))
    errors += [WorkflowError(file, c, f, m) for c, f, m in checked]
    if errors:
        position = {_label(raw, i): i for i, raw in reversed(list(enumerate(raw_convs)))}
        errors.sort(key=lambda e: -1 if e.conversation is None else position.get(e.conversation, len(position)))
        return None, errors
    workflow = Workflow.model_validate(data)
    workflow.source_file = file
    return workflow, []


def load_workflow_file(path: str | Path) -> Workflow:
    """Load and validate one definition file; raises WorkflowValidationError listing every problem."""
    path = Path(path)
    data, errors = _read_yaml(path, str(path))
    workflow, more = (None, []) if errors else parse_workflow(data, str(path))
    if errors or more or workflow is None:
        raise WorkflowValidationError(errors + more)
    return workflow


def _expand(paths: Iterable[Path], require_files: bool) -> tuple[list[Path], list[WorkflowError]]:
    files: dict[Path, None] = {}
    errors: list[WorkflowError] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found and require_files:
                errors.append(WorkflowError(str(path), None, "path", "no *.yaml or *.yml files in this directory"))
            files.update(dict.fromkeys(found))
        elif path.is_file():
            files[path] = None
        else:
            errors.append(WorkflowError(str(path), None, "path", "no such file or directory"))
    # the same file named twice would otherwise clash with itself on ids
    unique = {p.resolve(): p for p in files}
    return list(unique.values()), errors


def _cross_file(workflows: list[Workflow]) -> tuple[list[Workflow], list[WorkflowError]]:
    """Ids and names must be unique across files; the later file (in path order) gets the error."""
    ids: dict[int, str] = {}
    names: dict[str, str] = {}
    conv_ids: dict[int, str] = {}
    good: list[Workflow] = []
    errors: list[WorkflowError] = []
    for wf in workflows:
        file, mine = wf.source_file, []
        if wf.workflow_id in ids:
            used = f"{wf.workflow_id} is also used by {ids[wf.workflow_id]}"
            mine.append(WorkflowError(file, None, "workflow_id", used))
        if wf.name in names:
            mine.append(WorkflowError(file, None, "name", f"{wf.name!r} is also used by {names[wf.name]}"))
        for c in wf.conversations:
            if c.conversation_id in conv_ids:
                used = f"{c.conversation_id} is also used by {conv_ids[c.conversation_id]}"
                mine.append(WorkflowError(file, c.name, "conversation_id", used))
        ids.setdefault(wf.workflow_id, file)
        names.setdefault(wf.name, file)
        for c in wf.conversations:
            conv_ids.setdefault(c.conversation_id, f"{file} (conversation '{c.name}')")
        errors += mine
        good += [] if mine else [wf]
    return good, errors


def _validate_files(files: list[Path]) -> tuple[list[Workflow], list[WorkflowError]]:
    workflows: list[Workflow] = []
    errors: list[WorkflowError] = []
    for file in files:
        try:
            workflows.append(load_workflow_file(file))
        except WorkflowValidationError as exc:
            errors += exc.errors
    good, cross = _cross_file(workflows)
    return good, errors + cross


def validate_paths(paths: list[Path]) -> tuple[list[Workflow], list[WorkflowError]]:
    """Validate files and directories of definitions; returns the valid workflows and all errors."""
    files, errors = _expand(paths, require_files=True)
    workflows, more = _validate_files(files)
    return workflows, errors + more


def load_workflows_sparing(directory: str | Path | None = None) -> tuple[list[Workflow], list[WorkflowError]]:
    """The workflows in `directory` that load, and the errors of those that do not: one broken file
    must not take every other workflow down with it."""
    files, errors = _expand([Path(directory or settings.workflows_dir())], require_files=False)
    workflows, more = _validate_files(files)
    return workflows, errors + more


def load_workflows(directory: str | Path | None = None) -> list[Workflow]:
    """All workflows in `directory` (default: settings.workflows_dir()); raises on any error."""
    files, errors = _expand([Path(directory or settings.workflows_dir())], require_files=False)
    workflows, more = _validate_files(files)
    if errors or more:
        raise WorkflowValidationError(errors + more)
    return workflows


def workflow_warnings(workflow: Workflow) -> list[WorkflowError]:
    """Problems that do not stop a workflow from running but are probably mistakes (`turing validate` shows them)."""
    return [WorkflowError(workflow.source_file, c, f, m) for c, f, m in lookalike_warnings(workflow)]
