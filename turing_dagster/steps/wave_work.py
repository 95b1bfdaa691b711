"""A step's work over a range of waves, loaded one wave at a time and its postings one chunk at a time.

A range run covers many waves with one model load per step; holding every posting of the range
at once would make memory follow the range. Here a wave's state is read when the step reaches
it and dropped after, and the posting fields a prompt or actor needs are read per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.steps.classify import classify
from turing_dagster.steps.wave_state import LOADED, PostingState, load_wave_state
from turing_dagster.store.checkpoints import Checkpoint, batched, checkpoints_for
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.waves import load_postings
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


@dataclass
class WaveWork:
    """One wave's share of a step."""

    wave: str
    todo: list[PostingState]
    skipped: list[Checkpoint]
    done: int
    not_ready: int


@dataclass
class StepWork:
    """Counts over the whole range, and the waves' work to be read again lazily when the step runs."""

    waves: list[str]
    todo: int
    skipped: int
    done: int
    not_ready: int
    waves_with_work: Callable[[], Iterator[WaveWork]]


def wave_work(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, wave: str) -> WaveWork:
    state = load_wave_state(engine, plan, [wave], step.index - 1)
    own = {
        pid: cp
        for (pid, _), cp in checkpoints_for(
            engine, plan.workflow.workflow_id, list(state.postings), [step.conversation.conversation_id]
        ).items()
    }
    todo, skipped, done, not_ready = classify(plan, step, state, own)
    return WaveWork(wave, todo, skipped, done, not_ready)


def step_work(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, waves: list[str]) -> StepWork:
    """Count the range wave by wave (memory of one wave), keeping a wave's work only for a one-wave range."""
    counts = [0, 0, 0, 0]
    kept: list[WaveWork] = []
    for wave in waves:
        work = wave_work(engine, plan, step, wave)
        for i, n in enumerate((len(work.todo), len(work.skipped), work.done, work.not_ready)):
            counts[i] += n
        if len(waves) == 1:
            kept.append(work)

    def again() -> Iterator[WaveWork]:
        if kept:
            yield from kept
            return
        for wave in waves:
            # read mid-step, as the step reaches the wave: ride over a lost connection as writes do
            yield with_reconnect(lambda w=wave: wave_work(engine, plan, step, w), f"reading wave {wave}")

    return StepWork(list(waves), *counts, waves_with_work=again)


def with_postings(engine: sa.Engine, todo: list[PostingState], chunk_size: int) -> Iterator[list[PostingState]]:
    """The to-do postings in chunks, each chunk's posting fields read just before it is asked."""
    for part in batched(todo, chunk_size):
        ids = [ps.posting_id for ps in part]
        rows = with_reconnect(lambda i=ids: load_postings(engine, i), "reading postings")
        LOADED.saw(len(rows))
        for ps in part:
            ps.posting = rows[ps.posting_id]
        yield list(part)
        for ps in part:
            ps.posting = None  # done with it: a wave's postings never accumulate
