"""Turing: LLM workflows over job postings, processed in waves on Dagster."""

from typing import Any


def __getattr__(name: str) -> Any:
    # `dagster ... -m turing_dagster` finds `defs` here; the CLI imports this package without
    # paying for Dagster or reading workflow files
    if name == "defs":
        from turing_dagster.definitions import defs

        return defs
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
