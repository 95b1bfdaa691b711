"""The GPU timeline of a run: each step drains the engine's Ollama call records into the run log
(`gpu_calls` JSON lines), and the run's last step draws them into `$DAGSTER_HOME/turing/reports/<run_id>.png`,
the file every step's materialization links to (`gpu_timeline`). `turing report` redraws it on demand.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from turing_dagster.ollama.records import CallRecord
from turing_dagster.report.timeline import RunTimeline, from_events, iter_events, step_events
from turing_dagster.steps.results import Producer
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name, group_name

METADATA_KEY = "gpu_timeline"


def report_path(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.root_directory) / "turing" / "reports" / f"{run_id}.png"


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """The run's `gpu_calls` events, read back from its event log."""
    return list(iter_events(e.user_message for e in instance.all_logs(run_id) if e.dagster_event is None))


def run_timeline(instance: dg.DagsterInstance, run_id: str) -> RunTimeline:
    return from_events(run_events(instance, run_id))


def timeline_title(workflow: str, run: dg.DagsterRun) -> str:
    tags = run.tags
    waves = tags.get("dagster/partition") or "..".join(
        t for t in (tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")) if t
    )
    return f"GPU timeline: {workflow}, run {run.run_id[:8]}" + (f", wave(s) {waves}" if waves else "")


def write_report(instance: dg.DagsterInstance, run: dg.DagsterRun, workflow: str, path: Path | None = None,
                 events: list[dict[str, Any]] | None = None) -> Path:
    """Draw the run's timeline (from its log, or from `events`) into `path` (default: the linked file)."""
    from turing_dagster.report.render import write_png  # matplotlib only when a picture is drawn

    timeline = from_events(run_events(instance, run.run_id) if events is None else events)
    return write_png(timeline, path or report_path(instance, run.run_id), timeline_title(workflow, run))


class StepCalls:
    """One step's share of the timeline: its boundaries and the Ollama calls it made.

    `wrap` runs the step's producer (consumed by the IO manager, where the calls happen) and, when it
    is done, drains the records into one `gpu_calls` log line; the run's last step then draws the PNG.
    """

    def __init__(
        self, context: dg.AssetExecutionContext, plan: WorkflowPlan, step: PlannedStep, ollama: Any, waves: list[str],
        output_name: str | None = None, last: bool | None = None,
    ):
        self.context, self.plan, self.step, self.waves = context, plan, step, waves
        # the model manager gains `drain_call_records` with the call recording; until then: no calls
        self._drain = getattr(ollama, "drain_call_records", None)
        self.start = time.time()
        self.path = report_path(context.instance, context.run_id)
        self.last = is_last_step(context, plan, step) if last is None else last
        context.add_output_metadata({METADATA_KEY: dg.MetadataValue.path(str(self.path))}, output_name=output_name)
        if self.last:
            # matplotlib takes ~0.5 s CPU to import: do it while this step mostly waits on its model calls,
            # not after them (the draw then finds it imported; Python's import lock makes that safe)
            threading.Thread(target=_import_renderer, name="turing-import-matplotlib", daemon=True).start()

    def wrap(self, produce: Producer | None) -> Producer | None:
        if produce is None:
            self.finish()  # nothing to ask, no model loaded; the last step still draws the run's picture
            return None

        def produce_then_log(todo) -> Iterator:
            try:
                yield from produce(todo)
            finally:
                self.finish()

        return produce_then_log

    def finish(self) -> None:
        # the picture is a by-product: it never fails a step
        try:
            records: list[CallRecord] = list(self._drain()) if self._drain else []
            conv = self.step.conversation
            events = step_events(
                conv.name, self.start, time.time(), records,
                workflow=self.plan.workflow.name, execution_order=conv.execution_order, model=conv.model,
                waves=self.waves,
            )
            for event in events:
                self.context.log.debug(json.dumps(event))
            if self.last:
                self._draw(events)
        except Exception as exc:  # noqa: BLE001
            self.context.log.warning(f"GPU timeline not written: {type(exc).__name__}: {exc}")

    def _draw(self, mine: list[dict[str, Any]]) -> None:
        instance, run_id = self.context.instance, self.context.run_id
        here = (self.step.conversation.name, mine[0]["step_start"])
        # this step's lines may still be on their way to the event log: take them from memory
        logged = [e for e in run_events(instance, run_id) if (e["conversation"], e["step_start"]) != here]
        write_report(instance, self.context.run, self.plan.workflow.name, self.path, logged + mine)
        self.context.log.info(f"GPU timeline of this run: {self.path}")


def _import_renderer() -> None:
    try:
        import turing_dagster.report.render  # noqa: F401
    except Exception:  # noqa: BLE001  # the draw imports it again and reports what is wrong
        pass


def is_last_step(context: dg.AssetExecutionContext, plan: WorkflowPlan, step: PlannedStep) -> bool:
    """Whether no later step of the plan is part of this run (a UI run may select only some assets)."""
    run, prefix = context.run, plan.workflow.name
    names = {asset_name(s.conversation) for s in plan.steps}
    if run.asset_selection:
        names = {k.path[-1] for k in run.asset_selection if k.path[0] == prefix}
    elif run.step_keys_to_execute:  # e.g. `materialize(selection=...)`: a step key is the asset key joined by "__"
        names = {k.removeprefix(f"{prefix}__") for k in run.step_keys_to_execute}
        for group in plan.groups:  # siblings run as one multi-asset step, named by their execution order
            if group_name(group[0].conversation.execution_order) in names:
                names |= {asset_name(s.conversation) for s in group}
    return not any(asset_name(s.conversation) in names for s in plan.steps[step.index + 1 :])
