"""Dagster definitions: every workflow in TURING_WORKFLOWS_DIR as assets, a job and a sensor."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dagster as dg

from turing_dagster.assets import IO_MANAGER_KEY, build_workflow_assets
from turing_dagster.io_manager import CheckpointIOManager
from turing_dagster.jobs import build_workflow_job
from turing_dagster.ollama_resource import OllamaModels
from turing_dagster.resources import TuringStore
from turing_dagster.sensors import build_new_postings_sensor
from turing_dagster.workflow_loader import load_workflows

# backfill_policy is marked beta; single-run backfills are what make a backlog load each model once
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def _secret(name: str) -> dg.EnvVar | None:
    # EnvVar keeps the value out of the UI and run config; unset means the embedded default
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_definitions(workflows_dir: str | Path | None = None) -> dg.Definitions:
    """Reads the workflow files and wires them; no connection and no model call happens here."""
    chunk_size = int(os.environ.get("TURING_CHUNK_SIZE", "35"))
    assets, jobs, sensors = [], [], []
    for workflow in load_workflows(workflows_dir):
        workflow_assets = build_workflow_assets(workflow, chunk_size)
        job = build_workflow_job(workflow, workflow_assets)
        assets += workflow_assets
        jobs.append(job)
        sensors.append(build_new_postings_sensor(workflow, job))
    database_url = _secret("TURING_DATABASE_URL")
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        sensors=sensors,
        # also for runs the UI or `dagster asset materialize` builds: one process sees the whole plan,
        # so models stay loaded across steps and the run's wave claims hold from first step to last
        executor=dg.in_process_executor,
        resources={
            "store": TuringStore(database_url=database_url),
            "ollama": OllamaModels(),
            IO_MANAGER_KEY: CheckpointIOManager(database_url=database_url),
        },
    )


defs = build_definitions()
