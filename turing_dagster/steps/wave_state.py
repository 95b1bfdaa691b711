"""Where each posting of a wave stands before a step, read from the store alone (checkpoints and standing)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from turing_dagster.steps.progress import step_versions
from turing_dagster.store.checkpoints import Checkpoint, checkpoints_for, outputs_for
from turing_dagster.store.standing import Standing, wave_standings
from turing_dagster.workflows.plan import WorkflowPlan


@dataclass
class PostingState:
    posting_id: str
    wave_key: str
    standing: Standing | None = None  # store/standing.py: done, pending, held or stale, and at which step
    own: Checkpoint | None = None  # this step's existing row (replaced when the step writes)
    outputs: dict[str, str | None] = field(default_factory=dict)  # current outputs of the steps before it
    posting: dict | None = None  # the posting's fields, loaded chunk by chunk just before use


class LoadMeter:
    """The most postings one load brought into memory: a range run must stay at a wave's or a chunk's size."""

    def __init__(self) -> None:
        self.peak = 0
        self.loads = 0

    def saw(self, n: int) -> None:
        self.peak, self.loads = max(self.peak, n), self.loads + 1

    def reset(self) -> None:
        self.peak = self.loads = 0


LOADED = LoadMeter()


def reaches(plan: WorkflowPlan, at: int, index: int) -> bool:
    """Whether a posting standing at plan step `at` is at step `index` now: the same step, or an earlier
    sibling (the same execution order: independent, so a sibling may go first)."""
    if at == index:
        return True
    order = plan.steps[index].conversation.execution_order
    return at < index and all(s.conversation.execution_order == order for s in plan.steps[at:index])


def outputs_read(plan: WorkflowPlan, index: int) -> set[str] | None:
    """The conversations whose outputs plan step `index` reads: an LLM step's placeholders name them; a
    Python actor is handed every output before it (None)."""
    conv = plan.steps[index].conversation
    return None if conv.is_python else plan.workflow.placeholder_sources(conv.name)


def load_wave(engine: sa.Engine, plan: WorkflowPlan, wave: str, index: int, only: set[str] | None = None,
              standings: dict[str, Standing] | None = None) -> list[PostingState]:
    """The wave's members before plan step `index`: their standing, their row at that step and (for those
    the step may take) the current outputs before it, which prompts and actors are rendered from; with
    `only`, just those conversations' outputs (a wave's earlier outputs are most of what it reads).
    `standings`: the wave's, when the caller read them already (nothing was written since)."""
    workflow_id = plan.workflow.workflow_id
    if standings is None:
        standings = wave_standings(engine, workflow_id, step_versions(plan), wave)
    LOADED.saw(len(standings))
    states = [PostingState(pid, wave, s) for pid, s in sorted(standings.items())]
    here = [ps for ps in states if reaches(plan, ps.standing.at, index)]
    if not here:
        return states
    step = plan.steps[index]
    before = [s for s in plan.steps[:index] if only is None or s.conversation.name in only]
    ids = [ps.posting_id for ps in here]
    own = step.conversation.conversation_id
    rows = checkpoints_for(engine, workflow_id, ids, [own])
    outputs = outputs_for(engine, workflow_id, ids, [s.conversation.conversation_id for s in before])
    for ps in here:
        ps.own = rows.get((ps.posting_id, own))
        for s in before:
            if s.index >= ps.standing.at:  # past the current prefix: what the plan made before this step
                break
            key = (ps.posting_id, s.conversation.conversation_id)
            if key in outputs:
                ps.outputs[s.conversation.name] = outputs[key]
    return states
