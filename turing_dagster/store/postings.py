"""Loading postings from JSONL or CSV: all rows valid, or nothing written."""

from __future__ import annotations

import csv
import difflib
import json
import math
import sys
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from turing_dagster.store.engine import batched
from turing_dagster.store.schema import SAVE_TO_COLUMNS, posting_state_checkpoints, postings, wave_postings
from turing_dagster.workflows.placeholders import POSTING_PREFIX, find_placeholders
from turing_dagster.workflows.spec import Workflow

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_MAX_ERRORS = 20
# a posting description can be far longer than the csv module's 128 KiB default field limit
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class PostingsFileError(Exception):
    """A postings file that cannot be loaded; its message lists `file:line: problem` lines."""


def _enabled(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"enabled must be true or false, not {value!r}")


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {type(value).__name__}")


def _check_storable(value: Any, where: str) -> None:
    """Reject what a database cannot store, naming the field: NUL, lone surrogates, NaN/Infinity."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where} contains an invalid character ({exc.reason})") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value}, which JSON and the database cannot store")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, where)
            _check_storable(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_storable(item, f"{where}[{index}]")


def to_record(raw: Any) -> dict[str, Any]:
    """A row as stored: known columns, everything else in `extra`; raises ValueError naming the field."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected an object with posting_id, got {type(raw).__name__}")
    data = dict(raw)
    pid = data.pop("posting_id", None)
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, (str, int))):
        raise ValueError(f"posting_id must be text or a whole number, not {type(pid).__name__} {pid!r}")
    if pid is None or not str(pid).strip():
        raise ValueError("posting_id is missing or empty")
    record: dict[str, Any] = {
        "posting_id": str(pid).strip(),
        "job_title": _text(data.pop("job_title", None), "job_title"),
        "job_description": _text(data.pop("job_description", None), "job_description"),
    }
    if "enabled" in data:
        enabled = data.pop("enabled")
        if enabled not in (None, ""):
            record["enabled"] = _enabled(enabled)
    record["extra"] = data
    for key, value in (*record.items(), *data.items()):
        if key != "extra":
            _check_storable(value, key)
    return record


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    suffix = path.suffix.lower()
    # utf-8-sig: spreadsheets save CSV with a byte-order mark
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle, strict=True)
            try:
                fieldnames = reader.fieldnames
            except csv.Error as exc:
                raise PostingsFileError(f"{path}:1: {exc}") from None
            if not fieldnames or "posting_id" not in fieldnames:
                raise PostingsFileError(f"{path}:1: the CSV header has no posting_id column")
            twice = sorted({name for name in fieldnames if fieldnames.count(name) > 1})
            if twice:
                raise PostingsFileError(f"{path}:1: the CSV header names column(s) twice: {', '.join(twice)}")
            while True:
                start = reader.line_num + 1  # where an unreadable row (an unclosed quote) begins
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield start, ValueError(f"unreadable CSV row: {exc}")
                    continue
                # a quoted value may span lines: name the row by its first (blank lines before it skipped)
                start = reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str))
                # DictReader pads a short row with None and files a long row's surplus under None
                if None in row:
                    yield start, ValueError(f"more values than the {len(fieldnames)} header columns")
                    continue
                if any(v is None for v in row.values()):
                    given = sum(v is not None for v in row.values())
                    yield start, ValueError(f"{given} value(s) for the {len(fieldnames)} header columns")
                    continue
                yield start, {k: (v if v != "" or k == "job_description" else None) for k, v in row.items()}
        elif suffix in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line, parse_constant=_reject_constant)
                except json.JSONDecodeError as exc:
                    yield number, ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}")
                except (ValueError, RecursionError) as exc:
                    yield number, ValueError(f"invalid JSON: {exc}" if isinstance(exc, ValueError) else "JSON nested too deeply")
        else:
            raise PostingsFileError(f"{path}: unknown file type {suffix or '(none)'}: use .jsonl or .csv")


@dataclass(frozen=True)
class PostingsFile:
    records: list[dict[str, Any]]
    fields: frozenset[str]  # every field name in the file: the CSV header, the keys of any JSONL record


def read_postings_file(path: str | Path) -> list[dict[str, Any]]:
    """The checked records of a postings file (see read_postings)."""
    return read_postings(path).records


def read_postings(path: str | Path) -> PostingsFile:
    """Parse and check every row; raise PostingsFileError listing the bad ones (nothing is loaded then)."""
    path = Path(path)
    if path.is_dir():
        raise PostingsFileError(f"{path}: is a directory, not a postings file")
    if not path.is_file():
        raise PostingsFileError(f"{path}: no such file")
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    fields: set[str] = set()
    try:
        for line, raw in _rows(path):
            try:
                if isinstance(raw, Exception):
                    raise raw
                record = to_record(raw)
                if record["posting_id"] in seen:
                    raise ValueError(
                        f"posting_id {record['posting_id']!r} already on line {seen[record['posting_id']]}"
                    )
            except ValueError as exc:
                errors.append(f"{path}:{line}: {exc}")
                continue
            seen[record["posting_id"]] = line
            records.append(record)
            fields.update(raw)
    except UnicodeDecodeError as exc:
        raise PostingsFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if errors:
        more = f"\n... and {len(errors) - _MAX_ERRORS} more" if len(errors) > _MAX_ERRORS else ""
        raise PostingsFileError("\n".join(errors[:_MAX_ERRORS]) + more)
    if not records:
        raise PostingsFileError(f"{path}: no postings in the file")
    return PostingsFile(records, frozenset(fields))


CORE_FIELDS = ("job_title", "job_description")  # columns a Python actor may read without a placeholder


@dataclass(frozen=True)
class MissingField:
    field: str
    close: str | None  # a field of the file with a similar name (a misspelling?)
    readers: dict[str, list[str]]  # workflow name -> "conversation's prompt", "conversation's actor", ...


def _readers(workflows: Iterable[Workflow], present: Collection[str]) -> dict[str, dict[str, list[str]]]:
    """field -> workflow -> where it is read: the core columns by every Python actor, any field by a
    `{posting.FIELD}` none of whose fallbacks could stand in (a present field or a conversation)."""
    found: dict[str, dict[str, list[str]]] = {field: {} for field in CORE_FIELDS}
    for workflow in workflows:
        for conv in workflow.ordered:
            if conv.is_python:
                for field in CORE_FIELDS:
                    found[field].setdefault(workflow.name, []).append(f"{conv.name}'s actor")
            for where, text, _ in conv.templates():
                for placeholder in find_placeholders(text):
                    names = [a.removeprefix(POSTING_PREFIX) for a in placeholder.alternatives]
                    if placeholder.conversation_names or any(n in present for n in names):
                        continue
                    for name in dict.fromkeys(names):
                        uses = found.setdefault(name, {}).setdefault(workflow.name, [])
                        if f"{conv.name}'s {where}" not in uses:
                            uses.append(f"{conv.name}'s {where}")
    return found


def missing_fields(fields: Collection[str], workflows: Iterable[Workflow]) -> list[MissingField]:
    """The core columns, and the fields the workflows' prompts read, that no record of the file has.

    Every posting loaded from such a file lacks them: a prompt reading one fails for each posting,
    a missing job_description is "no content" at the sample workflow's first step.
    """
    present = {*fields, "posting_id"}
    readers = _readers(workflows, present)
    spare = sorted(present - set(readers) - {"posting_id", "enabled"})  # candidates for a misspelling
    return [
        MissingField(field, next(iter(difflib.get_close_matches(field, spare, n=1)), None), users)
        for field, users in readers.items()
        if field not in present and (users or field in CORE_FIELDS)
    ]


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    changed: int
    unchanged: int


_CONTENT = ("job_title", "job_description", "extra")


def upsert_postings(engine: sa.Engine, records: Sequence[dict[str, Any]]) -> LoadResult:
    """Insert or update postings in one transaction.

    A posting whose content changed starts over: its checkpoints, wave membership and saved outputs
    go, so the next run admits and processes it again (its old results describe text that is gone).
    """
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    ids = [r["posting_id"] for r in records]
    with engine.begin() as conn:
        before: dict[str, tuple] = {}
        for part in batched(ids):
            query = sa.select(postings.c.posting_id, *(postings.c[c] for c in _CONTENT)).where(
                postings.c.posting_id.in_(part)
            )
            before.update({row.posting_id: tuple(row[1:]) for row in conn.execute(query)})
        changed = [
            r["posting_id"]
            for r in records
            if r["posting_id"] in before and before[r["posting_id"]] != tuple(r.get(c) for c in _CONTENT)
        ]
        # enabled is only overwritten when the file says so; group rows by their column set
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record in records:
            groups.setdefault(tuple(sorted(record)), []).append(record)
        for columns, rows in groups.items():
            stmt = insert(postings)
            updated = {c: stmt.excluded[c] for c in columns if c != "posting_id"}
            updated["updated_at"] = sa.func.now()
            conn.execute(stmt.on_conflict_do_update(index_elements=["posting_id"], set_=updated), rows)
        for part in batched(changed):
            # membership first: it waits for a run writing these postings' results, whose rows the
            # next statement then sees and removes (see checkpoints._still_members)
            conn.execute(sa.delete(wave_postings).where(wave_postings.c.posting_id.in_(part)))
            conn.execute(sa.delete(posting_state_checkpoints).where(posting_state_checkpoints.c.posting_id.in_(part)))
            conn.execute(
                sa.update(postings).where(postings.c.posting_id.in_(part)).values({c: None for c in SAVE_TO_COLUMNS})
            )
    return LoadResult(len(ids) - len(before), len(changed), len(before) - len(changed))
