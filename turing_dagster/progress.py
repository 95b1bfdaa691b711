"""Per-step progress of a workflow, for `turing status` and `turing monitor`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from turing_dagster.planning import WorkflowPlan, asset_name
from turing_dagster.store.checkpoints import latest_states, status_counts
from turing_dagster.store.schema import wave_postings
from turing_dagster.store.waves import pending_summary


@dataclass
class StepProgress:
    step: str
    conversation_id: int
    execution_order: int
    actor: str
    completed: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0


@dataclass
class Progress:
    workflow: str
    workflow_id: int
    not_admitted: int
    admitted: int
    finished: int
    steps: list[StepProgress]

    def as_dict(self) -> dict:
        return {**asdict(self), "steps": [asdict(s) for s in self.steps]}


def progress(engine: sa.Engine, plan: WorkflowPlan) -> Progress:
    """Checkpoint counts per step, and where each admitted posting waits now (its latest checkpoint)."""
    wf = plan.workflow
    counts = status_counts(engine, wf.workflow_id)
    steps = {
        s.conversation.conversation_id: StepProgress(
            asset_name(s.conversation), s.conversation.conversation_id, s.conversation.execution_order, s.conversation.actor,
            **{k: counts.get(s.conversation.conversation_id, {}).get(k, 0) for k in ("completed", "skipped", "failed")},
        )
        for s in plan.steps
    }
    with engine.connect() as conn:
        admitted = conn.execute(
            sa.select(sa.func.count()).select_from(wave_postings).where(wave_postings.c.workflow_id == wf.workflow_id)
        ).scalar_one()
    latest = latest_states(engine, wf.workflow_id)
    finished = 0
    for cp in latest.values():
        nxt = cp.next_conversation_id
        if nxt is None:
            finished += 1
        elif cp.status != "failed" and nxt in steps:
            steps[nxt].pending += 1
    if plan.steps:
        steps[plan.steps[0].conversation.conversation_id].pending += admitted - len(latest)
    not_admitted, _ = pending_summary(engine, wf.workflow_id)
    return Progress(wf.name, wf.workflow_id, not_admitted, admitted, finished, list(steps.values()))
