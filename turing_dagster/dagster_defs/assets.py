"""Asset factory: a workflow's conversations as one wave-partitioned multi-asset, one asset each, in plan order.

The asset does the step's work (steps/run_step.py): it waits for its hosts, claims its waves, asks the
model, and hands each chunk of results to the checkpoint IO manager to persist; its QA checks run in the
same step. The lineage is `deps` (an input would carry nothing: each step reads its waves itself).
"""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.

import json
import queue
import threading
from collections.abc import Iterator

import dagster as dg

from turing_dagster import settings
from turing_dagster.dagster_defs.checks import check_results, check_specs
from turing_dagster.dagster_defs.gpu_timeline import picture_metadata, run_events, step_event
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.partitions import SCOPE_TAG, wave_partitions
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.dagster_defs.run_hosts import pool_name, wait_for_hosts
from turing_dagster.interpreter import tuned_for_steps
from turing_dagster.ollama.errors import OllamaError
from turing_dagster.steps.results import StepError
from turing_dagster.steps.run_step import StepReport, run_step
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.standing import Scope
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name, resident_first
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


def _waves_line(context: dg.AssetExecutionContext, workflow: Workflow) -> str:
    """The workflow's waves in brief, for a line about a run that names none or unknown ones."""
    keys = context.instance.get_dynamic_partitions(wave_partitions(workflow.name).name)
    if not keys:
        return f"it has no wave yet (`turing run {workflow.name}` admits pending postings into waves and runs them)"
    shown = ", ".join(keys) if len(keys) <= 3 else f"{keys[0]} .. {keys[-1]}"
    return f"its waves: {shown} ({len(keys)}); `turing status {workflow.name}` shows where they stand"


def run_waves(context: dg.AssetExecutionContext, workflow: Workflow) -> list[str]:
    """The waves this run covers, sorted (a range hands them over unordered); one line when it names none."""
    try:
        waves = sorted(context.partition_keys)
    except (dg.DagsterInvariantViolationError, dg.DagsterInvalidInvocationError) as exc:
        if not (context.has_partition_key or context.has_partition_key_range):
            raise StepError(f"{workflow.name}: a run of its job covers waves: name one with --tags "
                            f"'{{\"dagster/partition\": \"WAVE\"}}' (or a range), or use `turing run "
                            f"{workflow.name}`; {_waves_line(context, workflow)}") from None
        raise StepError(f"{workflow.name}: {' '.join(str(exc).split())}; {_waves_line(context, workflow)}") from None
    if not waves:  # a range whose start comes after its end
        raise StepError(f"{workflow.name}: the run's wave range holds no wave (does its start come after its end?); "
                        f"{_waves_line(context, workflow)}")
    return waves


def begin(context: dg.AssetExecutionContext, plan: WorkflowPlan, store: TuringStore) -> tuple[list[str], str]:
    """The run's waves, once its hosts are free and its waves are claimed: (waves, the claim's holder)."""
    workflow = plan.workflow
    waves = run_waves(context, workflow)
    if any(s.model for s in plan.steps):
        try:  # a malformed host list fails the run here, before its first step, not at its first LLM step
            settings.workflow_hosts(workflow.name)
        except settings.HostConfigError as exc:
            raise StepError(str(exc)) from None
    wait_for_hosts(context, pool_name(workflow))
    # one transaction, safe to repeat after a lost connection (a database restart)
    holder, missing = with_reconnect(lambda: store.claim_waves(workflow.workflow_id, waves, context.run_id),
                                     "claiming waves", on_retry=context.log.warning)
    if missing:
        context.log.warning(f"waves not in this store, nothing to do for them: {', '.join(missing)}")
    return waves, holder


def drive(context: dg.AssetExecutionContext, plan: WorkflowPlan, step: PlannedStep, store: TuringStore,
          ollama: OllamaModels, checkpoints: CheckpointIOManager, waves: list[str], holder: str,
          stop: threading.Event) -> StepReport:
    """One conversation over the run's waves; a failure that stops it names the conversation. It ends after
    the chunk in hand once `stop` is set (the run was interrupted): what is committed stays."""
    workflow, retry = plan.workflow, context.log.warning

    def after_chunk() -> None:
        if stop.is_set():
            raise Interrupted(step.conversation.name)
        store.check_claim(holder, waves)

    try:
        report = run_step(
            store.engine(), plan, step, waves, Scope.from_tag(context.run.tags.get(SCOPE_TAG)), checkpoints.chunk_size,
            persist=lambda chunk: checkpoints.persist(workflow.workflow_id, chunk, retry),
            ollama=ollama, answers=store, after_chunk=after_chunk,
        )
    except (StepError, OllamaError) as exc:
        named = str(exc) if str(exc).startswith("conversation '") else f"conversation '{step.conversation.name}': {exc}"
        raise StepError(named) from exc
    report.records = ollama.drain_call_records()
    return report


class Interrupted(Exception):
    """The run stopped while this conversation's thread was between chunks."""


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
    failed = report.stats.count("failed")
    for posting_id, reason in report.stats.failures:  # named, as `turing run` names them, for every launcher
        context.log.warning(f"{conv.name}: posting {posting_id} failed: {reason}")
    if failed > len(report.stats.failures):
        context.log.warning(f"{conv.name}: {failed - len(report.stats.failures)} more posting(s) failed; "
                            f"`turing status {plan.workflow.name}` counts them")
    context.log.info(json.dumps({"event": "wave_batch_finished", "workflow": plan.workflow.name, "waves": waves,
                                 "execution_order": conv.execution_order, "conversation": conv.name,
                                 "scope": report.scope.tag, **report.counts()}))


def run_order(context: dg.AssetExecutionContext, ollama: OllamaModels, plan: WorkflowPlan,
              steps: list[PlannedStep]) -> list[PlannedStep]:
    """The plan's order, with the conversations of one execution order whose model a host holds right now
    moved first (they are independent: routing only goes to a higher execution order)."""
    if not any(len([s for s in group if s.model]) > 1 for group in plan.groups):
        return steps
    try:
        resident = ollama.resident_models(plan.workflow.name)
    except OllamaError as exc:  # the step that needs the server reports it; the order is only a saving
        context.log.warning(f"resident models unknown, plan order kept: {exc}")
        return steps
    ordered = resident_first(steps, resident)
    if ordered != steps:
        context.log.info(f"resident first ({', '.join(resident)}): {', '.join(s.conversation.name for s in ordered)}")
    return ordered


def build_workflow_asset(plan: WorkflowPlan) -> dg.AssetsDefinition:
    """Every conversation of the workflow as an asset of one multi-asset, materialized in plan order.

    One Dagster step for the whole plan: the conversations follow each other without a step's start-up
    in between (the slots stay busy across conversations whose model is resident), each is materialized
    as soon as it is done, and a subset (the UI's Materialize of one asset) runs just what is selected."""
    workflow = plan.workflow
    specs, checks = [], []
    for step in plan.steps:
        fields = spec_fields(plan, step)
        specs.append(dg.AssetSpec(**fields).with_io_manager_key(IO_MANAGER_KEY))
        checks += check_specs(fields["key"], step)

    @dg.multi_asset(
        name=f"{workflow.name}__conversations",
        specs=specs,
        check_specs=checks,
        partitions_def=wave_partitions(workflow.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        pool=pool_name(workflow),
    )
    def conversations(
        context: dg.AssetExecutionContext,
        store: TuringStore,
        ollama: OllamaModels,
        checkpoints: dg.ResourceParam[CheckpointIOManager],
    ) -> Iterator:
        order = run_order(context, ollama, plan,
                          [s for s in plan.steps if asset_key(workflow, s) in context.selected_asset_keys])
        waves, holder = begin(context, plan, store)
        # the conversations run back to back in a thread of their own, each as soon as the one before it has
        # committed its last chunk; this generator records each one (its materializations and checks) as it
        # is done, so the model's slots never wait for Dagster's bookkeeping
        done: queue.Queue = queue.Queue()
        stop = threading.Event()

        def run_all() -> None:
            for step in order:
                if stop.is_set():
                    return
                try:
                    done.put(drive(context, plan, step, store, ollama, checkpoints, waves, holder, stop))
                except BaseException as exc:  # noqa: BLE001 - raised in the step's own thread below
                    done.put(exc)
                    return

        worker = threading.Thread(target=run_all, name="turing-conversations", daemon=True)
        with tuned_for_steps():
            worker.start()
            try:
                for position, step in enumerate(order):
                    report = done.get()
                    if isinstance(report, BaseException):
                        raise report
                    # the last one draws the run's timeline: the steps before it are recorded (handle_output)
                    last = position == len(order) - 1
                    describe(context, plan, report, draw(context, plan, store, [report]) if last else {})
                    key = asset_key(workflow, step)
                    yield dg.Output(report, output_name=key.to_python_identifier())
                    yield from check_results(context, store.engine(), plan, step, key, report.waves)
            finally:
                stop.set()
                worker.join()

    return conversations
