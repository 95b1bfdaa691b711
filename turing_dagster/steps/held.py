"""Postings held by a failed step: how many, and whether a plain `turing run` retries them (issue 8)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.steps.progress import step_versions
from turing_dagster.store.current import held_counts
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
    """Counted in SQL over the current checkpoints (store/current.py), like status: not from every posting's state."""
    held, retried = held_counts(engine, plan.workflow.workflow_id, step_versions(plan))
    return Held(held - retried, retried)
