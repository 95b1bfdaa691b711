"""Dagster definitions: every workflow in TURING_WORKFLOWS_DIR as assets, a job and a sensor."""

from __future__ import annotations

import warnings
from pathlib import Path

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
    # an EnvVar keeps the URL (and its password) out of the UI and run config; unset: the embedded default
    store = TuringStore(database_url=dg.EnvVar(settings.DATABASE_URL_VAR) if settings.database_url_is_set() else None)
    shared = dg.Definitions(
        # also for runs the UI or `dagster asset materialize` builds: one process sees the whole plan,
        # so models stay loaded across steps and the run's wave claims hold from first step to last
        executor=dg.in_process_executor,
        resources={
            "store": store,
            "ollama": OllamaModels(residency=settings.ollama_residency(), **settings.ollama_timeouts()),
            IO_MANAGER_KEY: CheckpointIOManager(store=store, chunk_size=settings.chunk_size()),
        },
    )
    # a file that does not load is a warning and a sensor named for it; every other workflow still loads
    workflows, errors = load_workflows_sparing(workflows_dir)
    warn_broken(errors)
    broken = dg.Definitions(sensors=broken_file_sensors(errors))
    return dg.Definitions.merge(shared, *(workflow_definitions(w) for w in workflows), broken)


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster ... -m turing_dagster.definitions` and the UI load (built when Dagster asks, once)."""
    return build_definitions()
