"""Postings held by a failed step: how many, and whether a plain `turing run` retries them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.steps.progress import step_versions
from turing_dagster.store.standing import State, standing_counts
from turing_dagster.workflows.plan import WorkflowPlan


@dataclass(frozen=True)
class Held:
    held: int  # waits for `--retry-failed`: a plain run leaves it alone
    retried: int  # the server misbehaved: the next plain run retries it

    def lines(self, workflow: str) -> list[str]:
        """What to tell the user; nothing when no posting waits on a failure."""
        out = []
        if self.held:
            out.append(f"{self.held} posting(s) are held by a failed step; "
                       f"`turing run {workflow} --retry-failed` retries them")
        if self.retried:
            out.append(f"{self.retried} posting(s) failed because the server misbehaved; "
                       f"the next `turing run {workflow}` retries them")
        return out


def held_by_failures(engine: sa.Engine, plan: WorkflowPlan) -> Held:
    """Counted in SQL over the current checkpoints (store/standing.py), like status: not per posting in Python."""
    counts = standing_counts(engine, plan.workflow.workflow_id, step_versions(plan))
    held = sum(n for state, _at, retryable, failed, _next, n in counts.rows
               if (state is State.HELD and not retryable) or (state is State.STALE and failed))
    retried = sum(n for state, _at, retryable, _failed, _next, n in counts.rows if state is State.HELD and retryable)
    return Held(held, retried)
