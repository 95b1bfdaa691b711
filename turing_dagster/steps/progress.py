"""Per-step progress of a workflow, for `turing status` and `turing monitor`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from turing_dagster.store.checkpoints import status_counts
from turing_dagster.store.current import standing
from turing_dagster.store.waves import pending_summary
from turing_dagster.workflows.plan import WorkflowPlan, asset_name


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


def step_versions(plan: WorkflowPlan) -> list[tuple[int, str]]:
    """(conversation_id, cumulative version) per plan step: what makes a checkpoint current."""
    return [(s.conversation.conversation_id, s.version) for s in plan.steps]


def progress(engine: sa.Engine, plan: WorkflowPlan) -> Progress:
    """Counts of current checkpoints per step, and where each admitted posting waits now.

    `pending` at a step is the postings that step will send to its actor: the model work left.

    Only rows of the current definitions count: after a prompt edit, the postings that step and
    the ones after it must redo show as pending, exactly what `turing run` will process.
    """
    wf = plan.workflow
    counts = status_counts(engine, wf.workflow_id)
    steps = {
        s.conversation.conversation_id: StepProgress(
            asset_name(s.conversation), s.conversation.conversation_id, s.conversation.execution_order,
            s.conversation.actor,
            **{k: counts.get((s.conversation.conversation_id, s.version), {}).get(k, 0)
               for k in ("completed", "skipped", "failed")},
        )
        for s in plan.steps
    }
    where = standing(engine, wf.workflow_id, step_versions(plan))  # in SQL: cost of a query, not of history
    if plan.steps:
        steps[plan.steps[0].conversation.conversation_id].pending += where.not_started
    for conversation_id, n in where.waiting.items():
        if conversation_id in steps:
            steps[conversation_id].pending += n
    # `finished`: the route ended (later steps may still owe it a `skipped` row: no model work)
    admitted, finished = where.admitted, where.ended
    not_admitted, _ = pending_summary(engine, wf.workflow_id)
    return Progress(wf.name, wf.workflow_id, not_admitted, admitted, finished, list(steps.values()))
