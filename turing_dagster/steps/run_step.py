"""One conversation over a run's waves: the step's work, driven wave by wave and persisted chunk by chunk.

A range run covers many waves with one model load per step; holding every posting of the range at once
would make memory follow the range. A wave's standing is read when the step reaches it and dropped after,
the posting fields a prompt or actor needs are read per chunk, and every chunk is handed to `persist`
(the checkpoint IO manager) as soon as it exists. No Dagster here: `dagster_defs/assets.py` wires it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from turing_dagster.steps.classify import classify
from turing_dagster.steps.llm_side import AnswerSource, LLMStep, SessionMaker, open_session
from turing_dagster.steps.python_side import python_chunks
from turing_dagster.steps.results import CheckpointRecorder, Chunk
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import LOADED, PostingState, load_wave, outputs_read
from turing_dagster.store.engine import batched
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.standing import Scope
from turing_dagster.store.waves import load_postings
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


@dataclass
class StepReport:
    """What a step did over its waves: the totals and per-wave counts its materializations show."""

    plan: WorkflowPlan
    step: PlannedStep
    waves: list[str]
    scope: Scope
    stats: StepStats
    todo: int = 0
    skipped: int = 0
    done: int = 0
    not_ready: int = 0
    left: int = 0  # here, but not this run's to take (stale, or failed without --retry-failed)
    dropped: int = 0  # results of postings reloaded with new content meanwhile
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    model_seconds: float | None = None  # first request -> last answer, loads excluded
    records: list = field(default_factory=list)  # the step's Ollama call records (ollama/records.py)

    @property
    def workflow_id(self) -> int:
        return self.plan.workflow.workflow_id

    @property
    def conversation_id(self) -> int:
        return self.step.conversation.conversation_id

    @property
    def model(self) -> str | None:
        return self.step.model

    def counts(self) -> dict[str, int]:
        """The step's totals, as its run record keeps them."""
        s = self.stats
        return {"completed": s.count("completed"), "failed": s.count("failed"), "skipped": s.count("skipped"),
                "reused": s.count("reused"), "calls": s.calls, "loads": s.loads, "left": self.left,
                "already_done": self.done, "not_ready": self.not_ready, "dropped": self.dropped,
                "tokens_in": s.tokens_in, "tokens_out": s.tokens_out}


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
            ps.posting = None  # a chat still going holds its own reference; the wave's never accumulate


def run_step(
    engine: sa.Engine,
    plan: WorkflowPlan,
    step: PlannedStep,
    waves: list[str],
    scope: Scope,
    chunk_size: int,
    persist: Callable[[Chunk], int],
    ollama: SessionMaker,
    answers: AnswerSource,
    after_chunk: Callable[[], None] = lambda: None,
) -> StepReport:
    """Do the step for the waves' postings the scope takes; returns its report (calls not drained)."""
    conv = step.conversation
    stats = StepStats(model=conv.model)
    report = StepReport(plan, step, sorted(waves), scope, stats)
    recorder = CheckpointRecorder(plan, step, stats)
    session = None if conv.is_python else open_session(ollama, plan, step)
    produce = python_chunks(plan, step, stats, recorder) if session is None else LLMStep(
        plan, step, stats, session, answers, chunk_size, recorder).produce

    def commit(chunk: Chunk) -> None:
        report.dropped += len(chunk) - persist(chunk)
        after_chunk()

    only = outputs_read(plan, step.index)

    def parts() -> Iterator[list[PostingState]]:
        for wave in report.waves:
            # read mid-step, as the step reaches the wave: ride over a lost connection as writes do
            states = with_reconnect(lambda w=wave: load_wave(engine, plan, w, step.index, only=only),
                                    f"reading wave {wave}")
            split = classify(plan, step, states, scope)
            report.todo += len(split.todo)
            report.skipped += len(split.skipped)
            report.done += split.done
            report.not_ready += split.not_ready
            report.left += split.left
            if split.todo and session is not None:
                session.ensure_available()  # a missing model fails the step before any posting is touched
            yield from with_postings(engine, split.todo, chunk_size)
            # the skipped are written after the to-do are asked: on a branch most of a wave skips, and
            # writing them first kept the model's slots idle until they were all committed
            for part in batched(split.skipped, chunk_size):
                chunk = Chunk()
                for ps, next_id in part:
                    recorder.skipped(ps, next_id, chunk)
                commit(chunk)

    for chunk in produce(parts()):
        commit(chunk)
    report.finished = time.time()
    if session is not None and session.stats.requests:
        report.model_seconds = max(0.0, session.stats.wall_seconds - session.stats.load_seconds)
    stats.finished = time.perf_counter()
    return report
