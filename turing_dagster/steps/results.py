"""What a step produces: checkpoints in chunks, recorded per posting, and the step's one-line failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from turing_dagster import settings
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.checkpoints import Checkpoint
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan
from turing_dagster.workflows.routing import next_after


class StepError(Exception):
    """A step that cannot run at all (missing model, unimportable actor): one line for the user."""


@dataclass
class Chunk:
    checkpoints: list[Checkpoint]
    posting_updates: list[tuple[str, str, Any]]


Producer = Callable[[list[PostingState]], Iterator[Chunk]]


@dataclass(frozen=True)
class StepOutput:
    """What a step produces; the checkpoint IO manager consumes `chunks()` and commits each one."""

    plan: WorkflowPlan
    step: PlannedStep
    waves: list[str]
    todo: list[PostingState]
    skipped: list[Checkpoint]
    already_done: int
    not_ready: int
    produce: Producer | None = None  # None when nothing is to be asked: no model is loaded
    chunk_size: int = settings.DEFAULT_CHUNK_SIZE
    stats: StepStats = field(default_factory=StepStats)
    holder: str | None = None  # the run's claim on its waves, renewed as chunks commit
    # per-wave metadata for the materialization of each partition: (metadata, partition_key=wave)
    add_wave_metadata: Callable[..., None] | None = None

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


class CheckpointRecorder:
    """Records one posting's result into a chunk: its checkpoint, its `save_to` write-back, the stats."""

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

    def failed(
        self, ps: PostingState, reason: str, chunk: Chunk, retryable: bool = False,
        snapshot: dict[str, Any] | None = None, **extra: Any,
    ) -> None:
        """`retryable`: the server was away, so the next run retries without --retry-failed;
        `snapshot`: more to keep in the checkpoint's state_snapshot (say, the turns a chat got through)."""
        conv = self.step.conversation
        # next is this step itself: still owed, so the debugging query shows the posting waiting here
        kept = {**(snapshot or {}), "retryable": retryable}
        chunk.checkpoints.append(
            step_checkpoint(self.step, ps, "failed", conv.conversation_id, error=reason, snapshot=kept, **extra)
        )
        self.stats.record(ps.wave_key, "failed", ps.posting_id, reason, None)
