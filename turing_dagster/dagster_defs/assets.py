"""Asset factory: one wave-partitioned asset per conversation, chained in plan order."""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.


import json
from dataclasses import dataclass
from functools import partial

import dagster as dg

from turing_dagster.dagster_defs.gpu_timeline import StepCalls
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.steps.llm_side import llm_chunks, open_session
from turing_dagster.steps.python_side import python_chunks
from turing_dagster.steps.results import StepError, StepOutput
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import WaveState
from turing_dagster.steps.wave_work import step_work, with_postings
from turing_dagster.store.claims import WaveBusyError
from turing_dagster.store.retry import with_reconnect
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name
from turing_dagster.workflows.spec import Workflow

IO_MANAGER_KEY = "checkpoint_io_manager"


def asset_key(workflow: Workflow, step: PlannedStep) -> dg.AssetKey:
    return dg.AssetKey([workflow.name, asset_name(step.conversation)])


@dataclass(frozen=True)
class Sibling:
    """A conversation run inside its execution order's multi-asset (siblings/): which output it is,
    and whether it draws the run's GPU timeline (None: decide as a lone asset does)."""

    key: dg.AssetKey
    output_name: str
    last: bool | None


def _run_step(
    context: dg.AssetExecutionContext,
    plan: WorkflowPlan,
    step: PlannedStep,
    store: TuringStore,
    ollama: OllamaModels,
    state: WaveState | None,
    chunk_size: int,
    sibling: "Sibling | None" = None,
) -> StepOutput:
    """One conversation over the run's waves; `sibling`: its place in a group's multi-asset."""
    engine = store.engine()
    output_name = sibling.output_name if sibling else None
    # a range run hands them over unordered; read once: each read queries Dagster's partition storage
    waves = sorted(context.partition_keys)
    gpu = StepCalls(context, plan, step, ollama, waves, output_name=output_name, last=sibling.last if sibling else None)
    # each store call below is one transaction, safe to repeat after a lost connection (a database restart)
    retry = context.log.warning
    try:
        holder, missing = with_reconnect(
            lambda: store.claim_waves(plan.workflow.workflow_id, waves, context.run_id), "claiming waves", on_retry=retry
        )
    except WaveBusyError as exc:
        raise StepError(str(exc)) from None
    if missing:
        context.log.warning(f"waves not in this store, nothing to do for them: {', '.join(missing)}")
    # `state` only names the waves: each is read when the step reaches it (bounded memory)
    conv = step.conversation
    work = with_reconnect(lambda: step_work(engine, plan, step, waves), "reading the step's waves", on_retry=retry)
    stats = StepStats(model=conv.model)
    context.log.info(
        json.dumps(
            {
                "event": "wave_batch_started",
                "workflow": plan.workflow.name,
                "waves": waves,
                "execution_order": conv.execution_order,
                "conversation": conv.name,
                "model": conv.model or conv.actor,
                "active_postings": work.todo,
                "skipped": work.skipped,
                "already_done": work.done,
                "not_ready": work.not_ready,
            }
        )
    )
    produce = None  # nothing to ask: no model is loaded for this step
    if work.todo:
        if conv.is_python:
            produce = python_chunks(plan, step, stats)
        else:
            produce = llm_chunks(plan, step, stats, open_session(ollama, plan, step), chunk_size)

    def parts():
        for wave in work.waves_with_work():
            yield wave.skipped, with_postings(engine, wave.todo, chunk_size)

    return StepOutput(
        plan,
        step,
        waves,
        work.todo,
        work.skipped,
        work.done,
        work.not_ready,
        parts,
        produce=gpu.wrap(produce),
        chunk_size=chunk_size,
        stats=stats,
        holder=holder,
        add_wave_metadata=(
            partial(context.add_asset_metadata, asset_key=sibling.key) if sibling else context.add_asset_metadata
        ),
    )


def spec_fields(plan: WorkflowPlan, step: PlannedStep, previous: PlannedStep | None) -> dict:
    """What the UI shows of a conversation's asset: its key, lineage, version, kind and description."""
    workflow, conv = plan.workflow, step.conversation
    # lineage the UI shows: who can route postings here and whose outputs the prompt reads
    sources = set(workflow.predecessors(conv.name)) | workflow.placeholder_sources(conv.name)
    if previous is not None:
        sources.discard(previous.conversation.name)
    return dict(
        key=asset_key(workflow, step),
        deps=[asset_key(workflow, plan.step(name)) for name in sorted(sources)],
        group_name=workflow.name,
        code_version=workflow.code_version(conv.name),
        kinds={"python"} if conv.is_python else {"ollama"},
        description=f"{conv.name} (conversation {conv.conversation_id}, order {conv.execution_order}): {conv.actor}",
        metadata={
            "workflow_id": workflow.workflow_id,
            "conversation_id": conv.conversation_id,
            "actor": conv.actor,
            "save_to": conv.save_to or "",
        },
    )


def build_conversation_asset(plan: WorkflowPlan, step: PlannedStep, chunk_size: int) -> dg.AssetsDefinition:
    workflow = plan.workflow
    previous = plan.steps[step.index - 1] if step.index else None
    common = dict(
        **spec_fields(plan, step, previous),
        partitions_def=wave_partitions(workflow.name),
        io_manager_key=IO_MANAGER_KEY,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    if previous is None:

        @dg.asset(**common)
        def entry_step(context: dg.AssetExecutionContext, store: TuringStore, ollama: OllamaModels) -> StepOutput:
            return _run_step(context, plan, step, store, ollama, None, chunk_size)

        return entry_step

    @dg.asset(ins={"state": dg.AssetIn(key=asset_key(workflow, previous))}, **common)
    def next_step(
        context: dg.AssetExecutionContext, store: TuringStore, ollama: OllamaModels, state: WaveState
    ) -> StepOutput:
        return _run_step(context, plan, step, store, ollama, state, chunk_size)

    return next_step
