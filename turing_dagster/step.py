"""One conversation over one or more waves: who arrives, who is skipped, and the results, chunk by chunk."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from turing_dagster.output_checks import check_output
from turing_dagster.placeholders import render
from turing_dagster.planning import PlannedStep, WorkflowPlan
from turing_dagster.routing import next_after
from turing_dagster.stats import StepStats
from turing_dagster.store.checkpoints import Checkpoint, batched
from turing_dagster.wave_state import PostingState, WaveState

DEFAULT_CHUNK_SIZE = 35


class StepError(Exception):
    """A step that cannot run at all (missing model, unimportable actor): one line for the user."""


@dataclass
class Chunk:
    checkpoints: list[Checkpoint]
    posting_updates: list[tuple[str, str, Any]]


@dataclass
class StepOutput:
    """What a step produces; the checkpoint IO manager consumes `chunks()` and commits each one."""

    plan: WorkflowPlan
    step: PlannedStep
    waves: list[str]
    todo: list[PostingState]
    skipped: list[Checkpoint]
    already_done: int
    not_ready: int
    produce: Callable[[list[PostingState]], Iterator[Chunk]] | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    stats: StepStats = field(default_factory=StepStats)
    holder: str | None = None  # the run's claim on its waves, renewed as chunks commit

    def chunks(self) -> Iterator[Chunk]:
        if self.todo and self.produce is not None:
            yield from self.produce(self.todo)


def step_checkpoint(
    step: PlannedStep, ps: PostingState, status: str, next_id: int | None, **fields: Any
) -> Checkpoint:
    """This step's checkpoint for one posting, stamped with the step's cumulative version and the wave."""
    return Checkpoint(
        posting_id=ps.posting_id,
        conversation_id=step.conversation.conversation_id,
        status=status,
        next_conversation_id=next_id,
        code_version=step.version,
        wave_key=ps.wave_key,
        **fields,
    )


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


def resolve_python_actor(step: PlannedStep) -> Callable[[dict, dict], Any]:
    module_name, function_name = step.conversation.python_target
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise StepError(
            f"conversation '{step.conversation.name}': actor: cannot import {module_name}:{function_name} ({exc})"
        ) from exc


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def build_messages(step: PlannedStep, posting: dict[str, Any], outputs: dict[str, str | None]) -> list[dict]:
    """Chat messages from checkpointed outputs; raises UnresolvedPlaceholder rather than send a hole."""
    conv = step.conversation
    messages = []
    if conv.system:
        messages.append({"role": "system", "content": render(conv.system, posting, outputs)})
    messages.append({"role": "user", "content": render(conv.prompt or "", posting, outputs)})
    return messages


class CheckpointFactory:
    """Turns one posting's result into its checkpoint and `save_to` write-back."""

    def __init__(self, plan: WorkflowPlan, step: PlannedStep, stats: StepStats):
        self.plan, self.step, self.stats = plan, step, stats

    def completed(self, ps: PostingState, output: str, chunk: Chunk, **extra: Any) -> None:
        conv = self.step.conversation
        target = next_after(self.plan.workflow, conv.name, output)
        next_id = self.plan.by_name[target].conversation.conversation_id if target else None
        chunk.checkpoints.append(step_checkpoint(self.step, ps, "completed", next_id, output=output, **extra))
        if conv.save_to:
            chunk.posting_updates.append((ps.posting_id, conv.save_to, output))
        self.stats.record(ps.wave_key, "completed", ps.posting_id, output, target)

    def failed(self, ps: PostingState, reason: str, chunk: Chunk, retryable: bool = False, **extra: Any) -> None:
        """`retryable`: the server was away, so the next run retries without --retry-failed."""
        conv = self.step.conversation
        # next is this step itself: still owed, so the debugging query shows the posting waiting here
        chunk.checkpoints.append(
            step_checkpoint(
                self.step, ps, "failed", conv.conversation_id, error=reason, snapshot={"retryable": retryable}, **extra
            )
        )
        self.stats.record(ps.wave_key, "failed", ps.posting_id, reason, None)


def python_chunks(
    plan: WorkflowPlan, step: PlannedStep, postings: dict[str, dict], stats: StepStats, chunk_size: int
) -> Callable[[list[PostingState]], Iterator[Chunk]]:
    actor = resolve_python_actor(step)
    factory = CheckpointFactory(plan, step, stats)

    def produce(todo: list[PostingState]) -> Iterator[Chunk]:
        for part in batched(todo, chunk_size):
            chunk = Chunk([], [])
            for ps in part:
                started = time.perf_counter()
                try:
                    output = as_text(actor(dict(postings[ps.posting_id]), dict(ps.outputs)))
                    reason = check_output(step.conversation, output)
                except Exception as exc:  # an actor's bug fails its posting, not the wave
                    output, reason = None, f"{type(exc).__name__}: {exc}"
                latency = time.perf_counter() - started
                stats.latencies.append(latency)
                extra = {"attempts": 1, "latency_ms": round(latency * 1000)}
                if reason is None:
                    factory.completed(ps, output, chunk, **extra)
                else:
                    factory.failed(ps, reason, chunk, **extra)
            yield chunk

    return produce
