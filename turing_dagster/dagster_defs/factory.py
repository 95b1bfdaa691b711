"""One workflow as a whole `dg.Definitions`: its conversation assets and their QA checks, its job and its sensor."""

from __future__ import annotations

import dagster as dg

from turing_dagster import settings
from turing_dagster.dagster_defs.assets import build_conversation_asset
from turing_dagster.dagster_defs.checks import build_workflow_checks
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.registry import plan_for, register
from turing_dagster.dagster_defs.run_hosts import host_run_config, host_tags
from turing_dagster.dagster_defs.sensors import build_new_postings_sensor
from turing_dagster.dagster_defs.siblings import build_sibling_assets
from turing_dagster.workflows.spec import Workflow


def build_workflow_assets(workflow: Workflow, chunk_size: int = settings.DEFAULT_CHUNK_SIZE) -> list[dg.AssetsDefinition]:
    """One asset per conversation; conversations sharing an execution order form one multi-asset."""
    plan = register(workflow)
    return [
        build_conversation_asset(plan, group[0], chunk_size) if len(group) == 1
        else build_sibling_assets(plan, group, chunk_size)
        for group in plan.groups
    ]


def workflow_definitions(workflow: Workflow, chunk_size: int) -> dg.Definitions:
    """Reads nothing and connects to nothing: the workflow is already parsed."""
    assets = build_workflow_assets(workflow, chunk_size)
    checks = build_workflow_checks(plan_for(workflow.name))  # the plan build_workflow_assets registered
    job = dg.define_asset_job(
        name=workflow.name,
        selection=dg.AssetSelection.assets(*assets),
        partitions_def=wave_partitions(workflow.name),
        description=workflow.description or f"Workflow {workflow.workflow_id}",
        # the hosts tag on every run (sensor, UI, `dagster job execute`): the run queue limits on it
        tags={"turing/workflow_id": str(workflow.workflow_id), **host_tags(workflow)},
        config=host_run_config(workflow),
    )
    return dg.Definitions(
        assets=assets, asset_checks=checks, jobs=[job], sensors=[build_new_postings_sensor(workflow)]
    )
