"""Who a step is for: the wave's postings split into to-do, skipped, already done and not ready."""

from __future__ import annotations

from turing_dagster.steps.results import step_checkpoint
from turing_dagster.steps.wave_state import PostingState, WaveState
from turing_dagster.store.checkpoints import Checkpoint
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


def classify(
    plan: WorkflowPlan, step: PlannedStep, state: WaveState, own: dict[str, Checkpoint]
) -> tuple[list[PostingState], list[Checkpoint], int, int]:
    """Split the wave's postings for this step: to process, to mark skipped, already done, not ready."""
    conv = step.conversation
    todo: list[PostingState] = []
    skipped: list[Checkpoint] = []
    done = not_ready = 0
    for ps in state.postings.values():
        mine = own.get(ps.posting_id)
        if mine is not None and mine.code_version == step.version and mine.status != "failed":
            done += 1
            continue
        if step.index == 0:
            todo.append(ps)
            continue
        if ps.frontier is None or ps.failed is not None:
            not_ready += 1  # the posting is held up earlier (failed there, or that step has not run)
            continue
        nxt = ps.frontier.next_conversation_id
        if nxt is not None and nxt not in plan.by_id:
            not_ready += 1  # points at a conversation the definitions no longer have; versions rerun it
            continue
        if nxt == conv.conversation_id:
            todo.append(ps)
        elif nxt is None or plan.by_id[nxt].index > step.index:
            skipped.append(step_checkpoint(step, ps, "skipped", nxt))
        else:
            not_ready += 1
    return todo, skipped, done, not_ready
