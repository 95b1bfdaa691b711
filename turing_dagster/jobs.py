"""One job per workflow: its conversations over the selected wave(s), in one process."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from turing_dagster.assets import wave_partitions
from turing_dagster.workflow_spec import Workflow


def build_workflow_job(workflow: Workflow, assets: list[dg.AssetsDefinition]) -> UnresolvedAssetJobDefinition:
    # in_process: every step of a run shares one OllamaModels instance and runs one after another,
    # so a model stays loaded across consecutive steps that use it and two models never interleave.
    return dg.define_asset_job(
        name=workflow.name,
        selection=dg.AssetSelection.assets(*assets),
        partitions_def=wave_partitions(workflow.name),
        executor_def=dg.in_process_executor,
        description=workflow.description or f"Workflow {workflow.workflow_id}",
        tags={"turing/workflow_id": str(workflow.workflow_id)},
    )
