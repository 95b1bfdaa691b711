"""Postings held by a failed step: how many, and whether a plain `turing run` retries them (issue 8)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.steps.wave_state import load_wave_state
from turing_dagster.store.waves import wave_keys
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
    keys = wave_keys(engine, plan.workflow.workflow_id)
    if not keys or not plan.steps:
        return Held(0, 0)
    state = load_wave_state(engine, plan, keys, len(plan.steps) - 1)
    failed = [ps.failed for ps in state.postings.values() if ps.failed is not None]
    retried = sum(1 for cp in failed if cp.snapshot.get("retryable", False))
    return Held(len(failed) - retried, retried)
