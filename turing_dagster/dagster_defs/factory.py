"""One workflow as a whole `dg.Definitions`: its conversation assets (with their QA checks), its job and its sensor."""

from __future__ import annotations

import dagster as dg

from turing_dagster.dagster_defs.assets import build_workflow_asset
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.sensors import build_new_postings_sensor
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow


def build_workflow_assets(plan: WorkflowPlan) -> list[dg.AssetsDefinition]:
    """One asset per conversation, all in one multi-asset (assets.py)."""
    return [build_workflow_asset(plan)]


def workflow_definitions(workflow: Workflow) -> dg.Definitions:
    """Reads nothing and connects to nothing: the workflow is already parsed."""
    plan = WorkflowPlan(workflow)
    assets = build_workflow_assets(plan)
    job = dg.define_asset_job(
        name=workflow.name,
        selection=dg.AssetSelection.assets(*assets),
        partitions_def=wave_partitions(workflow.name),
        description=workflow.description or f"Workflow {workflow.workflow_id}",
        tags={"turing/workflow_id": str(workflow.workflow_id)},
    )
    return dg.Definitions(assets=assets, jobs=[job], sensors=[build_new_postings_sensor(workflow)])
