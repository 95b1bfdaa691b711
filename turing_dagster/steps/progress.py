"""Per-step progress of a workflow, for `turing status` and `turing monitor`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from turing_dagster.store.reads import reused_counts, status_counts
from turing_dagster.store.standing import State, standing_counts
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
    pending: int = 0  # postings waiting here that a plain run sends to this step
    stale: int = 0  # this step's results made under an earlier definition
    reused: int = 0  # current completed results whose answer came from a stored one, not a call


@dataclass
class Progress:
    workflow: str
    workflow_id: int
    not_admitted: int
    admitted: int
    finished: int
    stale_postings: int
    steps: list[StepProgress]
    held_by_failures: int = 0  # waiting for `--retry-failed`
    failed_retryable: int = 0  # the next plain run retries them

    def as_dict(self) -> dict:
        return {**asdict(self), "steps": [asdict(s) for s in self.steps]}


def step_versions(plan: WorkflowPlan) -> list[tuple[int, str, int]]:
    """(conversation_id, cumulative version, execution order) per plan step: what makes a checkpoint current."""
    return [(s.conversation.conversation_id, s.version, s.conversation.execution_order) for s in plan.steps]


def progress(engine: sa.Engine, plan: WorkflowPlan) -> Progress:
    """Counts of current checkpoints per step, and where each admitted posting waits now (in SQL).

    Only rows of the current definitions count as completed/skipped/failed; rows of an earlier
    definition are `stale`: kept, and re-processed only on request (`turing run --stale`).
    """
    wf = plan.workflow
    counts = status_counts(engine, wf.workflow_id)
    reused = reused_counts(engine, wf.workflow_id)
    steps = {}
    for s in plan.steps:
        cid = s.conversation.conversation_id
        current = dict(counts.get((cid, s.version), {}))
        stale = 0
        for (c, v), by in counts.items():
            if c != cid or v == s.version:
                continue
            for status, n in by.items():
                if plan.is_current(s, v, status):  # a skip stamped with the version of the step that routed past
                    current[status] = current.get(status, 0) + n
                else:
                    stale += n
        steps[cid] = StepProgress(asset_name(s.conversation), cid, s.conversation.execution_order, s.conversation.actor,
                                  *(current.get(k, 0) for k in ("completed", "skipped", "failed")), stale=stale,
                                  reused=reused.get((cid, s.version), 0))
    where = standing_counts(engine, wf.workflow_id, step_versions(plan))
    finished = 0
    for state, at, _retryable, _failed, next_id, n in where.rows:
        if state is not State.PENDING:
            continue
        if at == 0:
            steps[plan.steps[0].conversation.conversation_id].pending += n
        elif next_id is None:
            finished += n  # the route ended; later steps still owe it a `skipped` row: no model work
        elif next_id in steps:
            steps[next_id].pending += n
    finished += where.where(State.DONE)
    admitted = sum(r[-1] for r in where.rows)
    not_admitted, _ = pending_summary(engine, wf.workflow_id)
    return Progress(wf.name, wf.workflow_id, not_admitted, admitted, finished, where.where(State.STALE),
                    list(steps.values()), where.held(), where.retried())
