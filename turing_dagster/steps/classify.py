"""Who a step is for: a wave's postings split into to-do, skipped, done, not ready, and left for later."""

from __future__ import annotations

from dataclasses import dataclass, field

from turing_dagster.steps.wave_state import PostingState, reaches
from turing_dagster.store.standing import Scope, State
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


@dataclass
class Split:
    todo: list[PostingState] = field(default_factory=list)
    skipped: list[tuple[PostingState, int | None]] = field(default_factory=list)  # (posting, where it goes)
    done: int = 0
    not_ready: int = 0  # held up at an earlier step (failed or stale there, or not reached yet)
    left: int = 0  # here, but not this run's to take: stale results or failures without --retry-failed


def classify(plan: WorkflowPlan, step: PlannedStep, states: list[PostingState], scope: Scope) -> Split:
    """Split a wave's postings for this step by their standing (store/standing.py) and the run's scope."""
    split = Split()
    conv_id = step.conversation.conversation_id
    for ps in states:
        s = ps.standing
        own_current = (ps.own is not None and ps.own.status != "failed"
                       and plan.is_current(step, ps.own.code_version, ps.own.status))
        if s.at > step.index or (own_current and reaches(plan, s.at, step.index)):
            split.done += 1  # (the latter: a sibling at `at` has not written its row yet)
        elif not reaches(plan, s.at, step.index):
            split.not_ready += 1
        elif not scope.takes(s.state, s.retryable, s.failed):
            split.left += 1
        elif step.index == 0 or s.next_id == conv_id or (s.state is State.HELD and s.at == step.index):
            split.todo.append(ps)  # a held posting failed here: it is retried here
        elif s.next_id is None or (s.next_id in plan.by_id and
                                   plan.by_id[s.next_id].conversation.execution_order >= step.conversation.execution_order):
            split.skipped.append((ps, s.next_id))  # its route passes this step (perhaps to a sibling)
        else:
            split.not_ready += 1  # routed to a conversation the plan does not have before this step
    return split
