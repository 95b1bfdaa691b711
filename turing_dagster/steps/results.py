"""What a step produces: postings' results in chunks, recorded per posting, and the step's one-line failures."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.answers import StoredAnswer
from turing_dagster.store.checkpoints import Checkpoint, PostingRows
from turing_dagster.store.standing import State
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan
from turing_dagster.workflows.routing import next_after


class StepError(Exception):
    """A step that cannot run at all (missing model, unimportable actor): one line for the user."""


@dataclass
class Chunk:
    """Postings' results committed together, in one transaction."""

    rows: list[PostingRows] = field(default_factory=list)

    @property
    def checkpoints(self) -> list[Checkpoint]:
        return [r.checkpoint for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


# takes the to-do postings in chunks (posting fields loaded), yields one Chunk of results per chunk
Producer = Callable[[Iterable[list[PostingState]]], Iterator[Chunk]]


def storable_problem(value: Any, where: str = "answer") -> str | None:
    """Why a database cannot hold `value` (a NUL character, a lone surrogate, NaN), naming where; None if it can.

    NUL is refused on SQLite too, so a workflow behaves the same on both databases."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where} contains a NUL character at position {value.index(chr(0))}"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{where} contains {value[exc.start]!r} at position {exc.start}, which is not valid UTF-8 ({exc.reason})"
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{where} is {value}, which JSON and the database cannot store"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = storable_problem(key, where) or storable_problem(item, f"{where}.{key}")
            if problem:
                return problem
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = storable_problem(item, f"{where}[{index}]")
            if problem:
                return problem
    return None


def step_checkpoint(step: PlannedStep, ps: PostingState, status: str, next_id: int | None,
                    version: str | None = None, **fields: Any) -> Checkpoint:
    """This step's checkpoint for one posting, stamped with the step's cumulative version (or `version`)
    and the wave."""
    return Checkpoint(
        posting_id=ps.posting_id,
        conversation_id=step.conversation.conversation_id,
        status=status,
        next_conversation_id=next_id,
        code_version=version or step.version,
        wave_key=ps.wave_key,
        **fields,
    )


class CheckpointRecorder:
    """Records one posting's result into a chunk: its checkpoint, its `save_to` write-back, the answers it
    got, the later rows a changed result voids, and the stats."""

    def __init__(self, plan: WorkflowPlan, step: PlannedStep, stats: StepStats):
        self.plan, self.step, self.stats = plan, step, stats
        self._later = [s.conversation.conversation_id for s in plan.steps[step.index + 1 :]]

    def _voids(self, ps: PostingState, cp: Checkpoint) -> list[int]:
        """Later rows made from this posting's old result at this step: void when the result changed (a rerun
        that gives the same answer and route keeps them: early cutoff)."""
        old = ps.own
        if old is None:
            return self._later if ps.standing is not None and ps.standing.state is State.STALE else []
        same = (old.status, old.output, old.next_conversation_id) == (cp.status, cp.output, cp.next_conversation_id)
        return [] if same else self._later

    def _add(self, ps: PostingState, cp: Checkpoint, chunk: Chunk, updates: list[tuple[str, Any]],
             answers: list[StoredAnswer]) -> None:
        chunk.rows.append(PostingRows(cp, updates, answers, self._voids(ps, cp)))

    def skipped(self, ps: PostingState, next_id: int | None, chunk: Chunk) -> None:
        version = self.plan.skip_version(self.step, ps.standing.routed if ps.standing else None)
        self._add(ps, step_checkpoint(self.step, ps, "skipped", next_id, version), chunk, [], [])
        self.stats.record(ps.wave_key, "skipped", ps.posting_id, None, None)

    def completed(
        self, ps: PostingState, output: str, chunk: Chunk, snapshot: dict[str, Any] | None = None,
        answers: list[StoredAnswer] | None = None, **extra: Any,
    ) -> None:
        problem = storable_problem(output) or storable_problem(snapshot or {}, "state_snapshot")
        if problem:  # one bad answer fails its posting, not the chunk
            self.failed(ps, f"the answer cannot be stored: {problem}", chunk, **extra)
            return
        conv = self.step.conversation
        target = next_after(self.plan.workflow, conv.name, output)
        next_id = self.plan.by_name[target].conversation.conversation_id if target else None
        cp = step_checkpoint(self.step, ps, "completed", next_id, output=output, snapshot=dict(snapshot or {}), **extra)
        updates = [(conv.save_to, output)] if conv.save_to else []
        self._add(ps, cp, chunk, updates, list(answers or []))
        self.stats.record(ps.wave_key, "completed", ps.posting_id, output, target, reused=bool(extra.get("reused")))

    def failed(
        self, ps: PostingState, reason: str, chunk: Chunk, retryable: bool = False,
        snapshot: dict[str, Any] | None = None, answers: list[StoredAnswer] | None = None, **extra: Any,
    ) -> None:
        """`retryable`: the server was away, so the next run retries without --retry-failed;
        `snapshot`: more to keep in the checkpoint's state_snapshot (say, the turns a chat got through)."""
        conv = self.step.conversation
        kept = {**(snapshot or {}), "retryable": retryable}
        if storable_problem(kept):
            kept = {"retryable": retryable}  # what the chat got through cannot be stored either
        if storable_problem(reason):  # the reason quotes the bad answer: show its characters escaped
            reason = reason.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
        # next is this step itself: still owed, so the debugging query shows the posting waiting here
        cp = step_checkpoint(self.step, ps, "failed", conv.conversation_id, error=reason, snapshot=kept, **extra)
        self._add(ps, cp, chunk, [], list(answers or []))
        self.stats.record(ps.wave_key, "failed", ps.posting_id, reason, None)
