"""Dagster definitions: every workflow in TURING_WORKFLOWS_DIR as assets, a job and a sensor."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from turing_dagster import settings
from turing_dagster.dagster_defs.assets import IO_MANAGER_KEY
from turing_dagster.dagster_defs.broken import broken_file_sensors
from turing_dagster.dagster_defs.factory import workflow_definitions
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.workflows.broken import warn_broken
from turing_dagster.workflows.loader import load_workflows_sparing

# backfill_policy is marked beta; single-run backfills are what make a backlog load each model once
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def build_definitions(workflows_dir: str | Path | None = None) -> dg.Definitions:
    """Reads the workflow files and wires them; no connection and no model call happens here."""
    chunk_size = settings.chunk_size()
    # an EnvVar keeps the URL (and its password) out of the UI and run config; unset: the embedded default
    database_url = dg.EnvVar(settings.DATABASE_URL_VAR) if settings.database_url_is_set() else None
    shared = dg.Definitions(
        # also for runs the UI or `dagster asset materialize` builds: one process sees the whole plan,
        # so models stay loaded across steps and the run's wave claims hold from first step to last
        executor=dg.in_process_executor,
        resources={
            "store": TuringStore(database_url=database_url),
            "ollama": OllamaModels(residency=settings.ollama_residency(), **settings.ollama_timeouts()),
            IO_MANAGER_KEY: CheckpointIOManager(database_url=database_url),
        },
    )
    # a file that does not load is a warning and a sensor named for it; every other workflow still loads
    workflows, errors = load_workflows_sparing(workflows_dir)
    warn_broken(errors)
    per_workflow = [workflow_definitions(w, chunk_size) for w in workflows]
    broken = dg.Definitions(sensors=broken_file_sensors(errors))
    return dg.Definitions.merge(shared, *per_workflow, broken)


def __getattr__(name: str) -> Any:
    # `defs` is built when Dagster asks for it, not when `turing run` imports build_definitions
    if name == "defs":
        return build_definitions()
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
