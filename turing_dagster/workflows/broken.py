"""A workflow file that does not load, told in one line, so the other workflows carry on."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from turing_dagster.workflows.loader import WorkflowError


def errors_by_file(errors: Iterable[WorkflowError]) -> dict[str, list[WorkflowError]]:
    grouped: dict[str, list[WorkflowError]] = {}
    for error in errors:
        grouped.setdefault(error.file, []).append(error)
    return grouped


def broken_file_line(file: str, errors: list[WorkflowError]) -> str:
    """One line for a definition file that does not load: its first problem and how to see the rest."""
    more = f" (and {len(errors) - 1} more: `turing validate {file}`)" if len(errors) > 1 else ""
    return f"skipped {errors[0]}{more}"


_warned: set[str] = set()


def warn_broken(errors: Iterable[WorkflowError]) -> None:
    """One `warning:` line on stderr per broken file, once per process (the CLI and the definitions
    both load the directory)."""
    for file, mine in errors_by_file(errors).items():
        line = broken_file_line(file, mine)
        if line not in _warned:
            _warned.add(line)
            print(f"warning: {line}", file=sys.stderr)
