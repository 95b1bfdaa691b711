"""The GPU timeline of a run: every step keeps its Ollama call records in its run record (`run_steps`), and
the run's last step draws them into `$DAGSTER_HOME/turing/reports/<run_id>.png` and into its
materializations' metadata as a picture (`gpu_timeline`, Markdown with the PNG embedded: a browser on
another machine sees it without a file server). `turing report` redraws any run on demand.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from turing_dagster.dagster_defs.partitions import PARTITION, RANGE_END, RANGE_START
from turing_dagster.report.timeline import RunTimeline, from_events
from turing_dagster.store.runs import run_step_rows
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan

METADATA_KEY = "gpu_timeline"
FILE_KEY = "gpu_timeline_file"


def report_path(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.root_directory) / "turing" / "reports" / f"{run_id}.png"


def step_event(plan: WorkflowPlan, step: PlannedStep, start: float, end: float, records: list) -> dict[str, Any]:
    """One step's share of the timeline, as drawn."""
    conv = step.conversation
    return {"conversation": conv.name, "step_start": start, "step_end": end, "execution_order": conv.execution_order,
            "model": conv.model, "calls": [r.as_dict() for r in records]}


def run_events(engine: sa.Engine, plan: WorkflowPlan, run_id: str) -> list[dict[str, Any]]:
    """The run's steps as timeline events, from their run records."""
    names = {s.conversation.conversation_id: s for s in plan.steps}
    events = []
    for row in run_step_rows(engine, run_id):
        step = names.get(row.conversation_id)
        events.append({
            "conversation": step.conversation.name if step else str(row.conversation_id),
            "step_start": row.started, "step_end": row.finished,
            "execution_order": step.conversation.execution_order if step else None,
            "model": row.model, "calls": row.calls or [],
        })
    return events


def timeline_title(workflow: str, run: dg.DagsterRun) -> str:
    tags = run.tags
    waves = tags.get(PARTITION) or "..".join(t for t in (tags.get(RANGE_START), tags.get(RANGE_END)) if t)
    return f"GPU timeline: {workflow}, run {run.run_id[:8]}" + (f", wave(s) {waves}" if waves else "")


def write_report(timeline: RunTimeline, path: Path, title: str, embed_dpi: int | None = None) -> bytes | None:
    """Write the PNG; with `embed_dpi`, return a small copy of the picture drawn once for both."""
    from turing_dagster.report.render import write_png  # Pillow only when a picture is drawn

    return write_png(timeline, path, title, embed_dpi)


def picture_metadata(instance: dg.DagsterInstance, run: dg.DagsterRun, workflow: str,
                     events: list[dict[str, Any]]) -> dict[str, dg.MetadataValue]:
    """Draw the run's timeline: the PNG file, and the picture itself for the materialization's page."""
    timeline = from_events(events)
    title = timeline_title(workflow, run)
    path = report_path(instance, run.run_id)
    image = base64.b64encode(write_report(timeline, path, title, embed_dpi=60) or b"").decode()
    return {
        METADATA_KEY: dg.MetadataValue.md(f"![{title}](data:image/png;base64,{image})"),
        FILE_KEY: dg.MetadataValue.path(str(path)),
    }

