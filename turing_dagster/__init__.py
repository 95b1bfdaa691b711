"""Turing: LLM workflows over job postings, processed in waves on Dagster.

`dagster ... -m turing_dagster` finds the code location's `defs` here; it lives in
`turing_dagster.definitions` and is imported on first access only, so the CLI and tools that import this
package pay for neither Dagster nor the workflow files.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "defs":
        from turing_dagster.definitions import defs  # the @dg.definitions function: Dagster builds it once

        return defs
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
