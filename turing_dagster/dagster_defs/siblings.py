"""Conversations sharing an execution order: one multi-asset whose steps run resident models first.

Siblings are independent (routing only goes to a higher execution order), so their order inside the
group is free: the one whose model a host holds right now (`/api/ps`, asked at run time) goes first,
saving a load the plan's fixed order would spend. The standing of a posting (store/standing.py) lets a
sibling write its row before the one the posting stands at, so any order leaves the same checkpoints.
"""
# No `from __future__ import annotations` here: Dagster reads the compute function's annotations.

from collections.abc import Iterator

import dagster as dg

from turing_dagster.dagster_defs.assets import IO_MANAGER_KEY, asset_key, describe, draw, drive, spec_fields
from turing_dagster.dagster_defs.checks import check_results, check_specs
from turing_dagster.dagster_defs.gpu_timeline import import_renderer_soon, is_last_step
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.dagster_defs.run_hosts import pool_name
from turing_dagster.ollama.errors import OllamaError
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, group_name, resident_first


def run_order(context: dg.AssetExecutionContext, ollama: OllamaModels, workflow: str,
              steps: list[PlannedStep]) -> list[PlannedStep]:
    """The plan's order, with the siblings whose model is resident on a host moved first."""
    if sum(1 for s in steps if s.model) < 2:
        return steps
    try:
        resident = ollama.resident_models(workflow)
    except OllamaError as exc:  # the step that needs the server reports it; the order is only a saving
        context.log.warning(f"resident models unknown, plan order kept: {exc}")
        return steps
    ordered = resident_first(steps, resident)
    if ordered != steps:
        context.log.info(f"resident first ({', '.join(resident)}): {', '.join(s.conversation.name for s in ordered)}")
    return ordered


def build_sibling_assets(plan: WorkflowPlan, group: list[PlannedStep]) -> dg.AssetsDefinition:
    workflow = plan.workflow
    specs, checks = [], []
    for step in group:
        fields = spec_fields(plan, step)
        specs.append(dg.AssetSpec(**fields).with_io_manager_key(IO_MANAGER_KEY))
        checks += check_specs(fields["key"], step)

    @dg.multi_asset(
        name=f"{workflow.name}__{group_name(group[0].conversation.execution_order)}",
        specs=specs,
        check_specs=checks,
        partitions_def=wave_partitions(workflow.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=pool_name(workflow),
    )
    def siblings(
        context: dg.AssetExecutionContext,
        store: TuringStore,
        ollama: OllamaModels,
        checkpoints: dg.ResourceParam[CheckpointIOManager],
    ) -> Iterator:
        selected = [s for s in group if asset_key(workflow, s) in context.selected_asset_keys]
        order = run_order(context, ollama, workflow.name, selected)
        last = is_last_step(context, plan, group[-1])  # no later step in this run: the group draws
        if last:
            import_renderer_soon()
        reports = {step.index: drive(context, plan, step, store, ollama, checkpoints) for step in order}
        picture = draw(context, plan, store, list(reports.values())) if last else {}
        for step in selected:
            key = asset_key(workflow, step)
            describe(context, plan, reports[step.index], picture)
            yield dg.Output(reports[step.index], output_name=key.to_python_identifier())
            yield from check_results(context, store.engine(), plan, step, key, reports[step.index].waves)

    return siblings
