"""Where each posting of a wave stands after a given step, rebuilt from checkpoints alone."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from turing_dagster.store.checkpoints import Checkpoint, checkpoints_for
from turing_dagster.store.waves import wave_members
from turing_dagster.workflows.plan import WorkflowPlan


@dataclass
class PostingState:
    posting_id: str
    wave_key: str
    # latest current completed/skipped checkpoint up to the step: its next is where the posting goes
    frontier: Checkpoint | None = None
    frontier_index: int = -1
    # a current failed checkpoint after the frontier: the posting waits there for a retry
    failed: Checkpoint | None = None
    outputs: dict[str, str | None] = field(default_factory=dict)
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


@dataclass
class WaveState:
    workflow_id: int
    waves: list[str]
    after_index: int  # plan index of the step this state follows; -1 = before the first step
    postings: dict[str, PostingState]


def load_wave_state(engine: sa.Engine, plan: WorkflowPlan, waves: list[str], after_index: int) -> WaveState:
    """Rebuild the wave's state after plan step `after_index`; rows of an older version are ignored."""
    workflow_id = plan.workflow.workflow_id
    waves = sorted(waves)
    members = wave_members(engine, workflow_id, waves)
    states = {pid: PostingState(pid, key) for key in waves for pid in members[key]}
    LOADED.saw(len(states))
    steps = plan.steps[: after_index + 1]
    if steps and states:
        rows = checkpoints_for(engine, workflow_id, list(states), [s.conversation.conversation_id for s in steps])
        for step in steps:  # plan order, so the last current row seen is the frontier
            conv = step.conversation
            for pid, state in states.items():
                cp = rows.get((pid, conv.conversation_id))
                if cp is None or cp.code_version != step.version:
                    continue
                if cp.status == "failed":
                    state.failed = cp
                    continue
                state.frontier, state.frontier_index, state.failed = cp, step.index, None
                if cp.status == "completed":
                    state.outputs[conv.name] = cp.output
    return WaveState(workflow_id, waves, after_index, states)
