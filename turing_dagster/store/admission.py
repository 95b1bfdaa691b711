"""Turning pending postings into waves: shared by the sensor and `turing run`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.store.waves import Wave, admit, pending_summary
from turing_dagster.workflows.spec import Workflow


@dataclass(frozen=True)
class Decision:
    admit: bool
    pending: int
    reason: str


def decide(workflow: Workflow, pending: int, oldest: dt.datetime | None, now: dt.datetime) -> Decision:
    """Batch a trickle: admit at `min_size` pending, or once the oldest has waited `max_wait_seconds`."""
    settings = workflow.waves
    if pending == 0:
        return Decision(False, 0, "no pending postings")
    if pending >= settings.min_size:
        return Decision(True, pending, f"{pending} pending >= min_size {settings.min_size}")
    waited = (now - oldest).total_seconds() if oldest else 0.0
    if waited >= settings.max_wait_seconds:
        return Decision(True, pending, f"oldest pending posting waited {waited:.0f}s >= {settings.max_wait_seconds:.0f}s")
    return Decision(
        False,
        pending,
        f"{pending} pending < min_size {settings.min_size}; oldest waited {waited:.0f}s of {settings.max_wait_seconds:.0f}s",
    )


def admit_pending(
    engine: sa.Engine, workflow: Workflow, wave_size: int | None = None, wait: bool = True
) -> tuple[Decision, list[Wave]]:
    """Admit pending postings into waves of at most `wave_size` (default: the workflow's max_size)."""
    pending, oldest = pending_summary(engine, workflow.workflow_id)
    decision = decide(workflow, pending, oldest, dt.datetime.now(dt.timezone.utc))
    if not wait and pending:
        decision = Decision(True, pending, "admitted on request")
    if not decision.admit:
        return decision, []
    for attempt in range(3):
        try:
            return decision, admit(engine, workflow.workflow_id, wave_size or workflow.waves.max_size)
        except sa.exc.IntegrityError:
            # the sensor and `turing run` admitted at the same moment: the loser rolled back; look again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
