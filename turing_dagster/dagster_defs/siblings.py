"""Conversations sharing an execution order: one multi-asset whose outputs run resident models first.

Siblings are independent (routing only goes to a higher execution order), so their order inside the
group is free: the one whose model a host holds right now (`/api/ps`, asked at run time) goes first,
saving a load the plan's fixed order would spend. Checkpoints keep the plan's meaning whatever the
order: a sibling that ran ahead of one earlier in the plan saw that one's postings as not ready, and
its `skipped` rows for them are written once the group is done (a crash in between: the next run
writes them, as any step does).
"""
# No `from __future__ import annotations` here: Dagster reads the compute function's annotations.

from collections.abc import Iterator

import dagster as dg

from turing_dagster.dagster_defs.assets import IO_MANAGER_KEY, Sibling, _run_step, asset_key, spec_fields
from turing_dagster.dagster_defs.gpu_timeline import is_last_step
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.ollama.errors import OllamaError
from turing_dagster.steps.wave_state import WaveState
from turing_dagster.steps.wave_work import wave_work
from turing_dagster.store.checkpoints import write_chunk
from turing_dagster.store.retry import with_reconnect
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, group_name, resident_first


def run_order(context: dg.AssetExecutionContext, ollama: OllamaModels, steps: list[PlannedStep]) -> list[PlannedStep]:
    """The plan's order, with the siblings whose model is resident on a host moved first."""
    if sum(1 for s in steps if s.model) < 2:
        return steps
    try:
        resident = ollama.resident_models()
    except OllamaError as exc:  # the step that needs the server reports it; the order is only a saving
        context.log.warning(f"resident models unknown, plan order kept: {exc}")
        return steps
    ordered = resident_first(steps, resident)
    if ordered != steps:
        context.log.info(
            f"resident first ({', '.join(resident)}): {', '.join(s.conversation.name for s in ordered)}"
        )
    return ordered


def ran_early(order: list[PlannedStep]) -> list[PlannedStep]:
    """Siblings that ran before one that precedes them in the plan."""
    return [s for i, s in enumerate(order) if any(o.index < s.index for o in order[i + 1 :])]


def write_late_skips(context: dg.AssetExecutionContext, plan: WorkflowPlan, store: TuringStore,
                     step: PlannedStep) -> int:
    """The `skipped` rows a sibling that ran early could not write yet (its postings went elsewhere)."""
    engine, written = store.engine(), 0
    for wave in sorted(context.partition_keys):
        work = with_reconnect(lambda w=wave: wave_work(engine, plan, step, w), f"reading wave {wave}")
        if work.skipped:
            written += with_reconnect(
                lambda k=work.skipped: write_chunk(engine, plan.workflow.workflow_id, k, [], members_only=True),
                "a chunk write",
            )
    return written


def build_sibling_assets(plan: WorkflowPlan, group: list[PlannedStep], chunk_size: int) -> dg.AssetsDefinition:
    workflow = plan.workflow
    previous = plan.steps[group[0].index - 1]  # the entry's execution order is never shared (rules.py)
    before = asset_key(workflow, previous)
    specs = []
    for step in group:  # a multi-asset's input must be among its specs' deps
        fields = spec_fields(plan, step, previous)
        fields["deps"] = [before, *fields["deps"]]
        specs.append(dg.AssetSpec(**fields).with_io_manager_key(IO_MANAGER_KEY))

    @dg.multi_asset(
        name=f"{workflow.name}__{group_name(group[0].conversation.execution_order)}",
        specs=specs,
        ins={"state": dg.AssetIn(key=before)},
        partitions_def=wave_partitions(workflow.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def siblings(
        context: dg.AssetExecutionContext, store: TuringStore, ollama: OllamaModels, state: WaveState
    ) -> Iterator[dg.Output]:
        selected = [s for s in group if asset_key(workflow, s) in context.selected_asset_keys]
        order = run_order(context, ollama, selected)
        draws = is_last_step(context, plan, group[-1])  # no later step in this run: the last sibling draws
        for position, step in enumerate(order):
            key = asset_key(workflow, step)  # a spec's output is named after its key
            sibling = Sibling(key, key.to_python_identifier(), last=draws and position == len(order) - 1)
            output = _run_step(context, plan, step, store, ollama, state, chunk_size, sibling)
            yield dg.Output(output, output_name=sibling.output_name)  # the IO manager runs it here
        for step in ran_early(order):
            late = write_late_skips(context, plan, store, step)
            if late:
                context.log.info(f"{step.conversation.name}: {late} skipped row(s) written after its siblings")

    return siblings
