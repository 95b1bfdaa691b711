"""Asset factory: one wave-partitioned asset per conversation, in plan order; each drives its step.

The asset does the step's work (steps/run_step.py): it waits for its hosts, claims its waves, asks the
model, and hands each chunk of results to the checkpoint IO manager to persist; its QA checks run in the
same step. Steps are ordered by `deps` (the input would carry nothing: each step reads its waves itself).
"""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.

import json
from collections.abc import Iterator

import dagster as dg

from turing_dagster.dagster_defs.checks import check_results, check_specs
from turing_dagster.dagster_defs.gpu_timeline import (
    import_renderer_soon,
    is_last_step,
    picture_metadata,
    run_events,
    step_event,
)
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.partitions import SCOPE_TAG, wave_partitions
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.dagster_defs.run_hosts import pool_name, wait_for_hosts
from turing_dagster.steps.run_step import StepReport, run_step
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.standing import Scope
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name
from turing_dagster.workflows.spec import Workflow
from turing_dagster.workflows.versions import code_version

IO_MANAGER_KEY = "checkpoints"
MAX_PICTURES = 10  # a range of more waves shows the GPU timeline on its last wave's page only


def asset_key(workflow: Workflow, step: PlannedStep) -> dg.AssetKey:
    return dg.AssetKey([workflow.name, asset_name(step.conversation)])


def spec_fields(plan: WorkflowPlan, step: PlannedStep) -> dict:
    """What the UI shows of a conversation's asset: its key, lineage, version, kind and description."""
    workflow, conv = plan.workflow, step.conversation
    # lineage the UI shows (who can route postings here, whose outputs the prompt reads) and the plan's order
    sources = set(workflow.predecessors(conv.name)) | workflow.placeholder_sources(conv.name)
    earlier = [s for s in plan.steps[: step.index] if s.conversation.execution_order < conv.execution_order]
    if earlier:  # the plan's order: the step before this execution order runs first
        sources.add(earlier[-1].conversation.name)
    sources -= {s.conversation.name for s in plan.steps if s.conversation.execution_order == conv.execution_order}
    return dict(
        key=asset_key(workflow, step),
        deps=[asset_key(workflow, plan.step(name)) for name in sorted(sources)],
        group_name=workflow.name,
        code_version=code_version(workflow, conv.name),
        kinds={"python"} if conv.is_python else {"ollama"},
        description=f"{conv.name} (conversation {conv.conversation_id}, order {conv.execution_order}): {conv.actor}",
        metadata={
            "workflow_id": workflow.workflow_id,
            "conversation_id": conv.conversation_id,
            "actor": conv.actor,
            "save_to": conv.save_to or "",
            "step_version": step.version,
        },
    )


def _wave_metadata(report: StepReport, wave: str, ranged: bool) -> dict:
    """A wave's own counts and completed rows first; the run's range after them."""
    stats = report.stats
    meta: dict = dict(stats.wave_counts(wave))
    meta["preview"] = dg.MetadataValue.md(stats.preview_markdown(wave))
    if ranged:
        meta["range"] = f"{report.waves[0]}..{report.waves[-1]} ({len(report.waves)} waves)"
        meta.update({f"range_{k}": v for k, v in report.counts().items() if k in ("completed", "failed", "skipped", "reused")})
    summary = stats.summary()
    meta.update({k: summary[k] for k in ("model", "calls", "loads", "load_seconds", "seconds", "tokens_out",
                                         "tokens_per_second", "latency_p50_ms", "latency_p95_ms") if summary[k] is not None})
    meta.update(already_done=report.done, not_ready=report.not_ready, left_for_later=report.left)
    return meta


def drive(context: dg.AssetExecutionContext, plan: WorkflowPlan, step: PlannedStep, store: TuringStore,
          ollama: OllamaModels, checkpoints: CheckpointIOManager) -> StepReport:
    """One conversation over the run's waves: wait for the hosts, claim the waves, do the step."""
    waves = sorted(context.partition_keys)  # a range hands them over unordered; read once
    workflow = plan.workflow
    wait_for_hosts(context, pool_name(workflow))
    # each store call below is one transaction, safe to repeat after a lost connection (a database restart)
    retry = context.log.warning
    holder, missing = with_reconnect(lambda: store.claim_waves(workflow.workflow_id, waves, context.run_id),
                                     "claiming waves", on_retry=retry)
    if missing:
        context.log.warning(f"waves not in this store, nothing to do for them: {', '.join(missing)}")
    report = run_step(
        store.engine(), plan, step, waves, Scope.from_tag(context.run.tags.get(SCOPE_TAG)), checkpoints.chunk_size,
        persist=lambda chunk: checkpoints.persist(workflow.workflow_id, chunk, retry),
        ollama=ollama, answers=store, after_chunk=lambda: store.check_claim(holder, waves),
    )
    report.records = ollama.drain_call_records()
    return report


def draw(context: dg.AssetExecutionContext, plan: WorkflowPlan, store: TuringStore, reports: list[StepReport]) -> dict:
    """The run's GPU timeline, from the steps recorded so far and `reports` (not recorded yet); {} on trouble."""
    try:  # the picture is a by-product: it never fails a step
        mine = [step_event(plan, r.step, r.started, r.finished, r.records) for r in reports]
        picture = picture_metadata(context.instance, context.run, plan.workflow.name,
                                   run_events(store.engine(), plan, context.run_id) + mine)
        context.log.info(f"GPU timeline of this run: {picture['gpu_timeline_file'].value}")
        return picture
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"GPU timeline not written: {type(exc).__name__}: {exc}")
        return {}


def describe(context: dg.AssetExecutionContext, plan: WorkflowPlan, report: StepReport, picture: dict) -> None:
    """Each wave's materialization: its own counts and rows first; one JSON line in the run log."""
    key, waves = asset_key(plan.workflow, report.step), report.waves
    ranged = len(waves) > 1
    for i, wave in enumerate(waves):
        shown = picture if (len(waves) <= MAX_PICTURES or i == len(waves) - 1) else {}
        meta = {**_wave_metadata(report, wave, ranged), **shown}
        if ranged:
            context.add_asset_metadata(meta, asset_key=key, partition_key=wave)
        else:  # one wave: no partition key, which would cost a query of Dagster's partition storage
            context.add_asset_metadata(meta, asset_key=key)
    conv = report.step.conversation
    context.log.info(json.dumps({"event": "wave_batch_finished", "workflow": plan.workflow.name, "waves": waves,
                                 "execution_order": conv.execution_order, "conversation": conv.name,
                                 "scope": report.scope.tag, **report.counts()}))


def build_conversation_asset(plan: WorkflowPlan, step: PlannedStep) -> dg.AssetsDefinition:
    fields = spec_fields(plan, step)
    key = fields["key"]

    @dg.asset(
        **fields,
        partitions_def=wave_partitions(plan.workflow.name),
        io_manager_key=IO_MANAGER_KEY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=pool_name(plan.workflow),
        check_specs=check_specs(key, step),
    )
    def conversation_step(
        context: dg.AssetExecutionContext,
        store: TuringStore,
        ollama: OllamaModels,
        checkpoints: dg.ResourceParam[CheckpointIOManager],
    ) -> Iterator:
        last = is_last_step(context, plan, step)
        if last:
            import_renderer_soon()
        report = drive(context, plan, step, store, ollama, checkpoints)
        describe(context, plan, report, draw(context, plan, store, [report]) if last else {})
        yield dg.Output(report)
        yield from check_results(context, store.engine(), plan, step, key, report.waves)

    return conversation_step
