"""The LLM side of a step: prompts from checkpoints, one model session, results chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Protocol

from turing_dagster.ollama.session import ModelSession
from turing_dagster.ollama.types import LLMRequest
from turing_dagster.steps.llm_turns import turn_chunks
from turing_dagster.steps.prompts import build_messages
from turing_dagster.steps.results import CheckpointRecorder, Chunk, Producer, StepError
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.placeholders import UnresolvedPlaceholder
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


class SessionMaker(Protocol):
    """Where sessions come from: the pool, or the Dagster resource that wraps it."""

    def session(self, model: str, options: dict | None = None) -> ModelSession: ...


def llm_chunks(
    plan: WorkflowPlan,
    step: PlannedStep,
    stats: StepStats,
    session: ModelSession,
    chunk_size: int,
) -> Producer:
    """A producer for StepOutput: one stream of requests over the host's slots, cut into chunks of results.

    The requests of the whole step flow through one session run, so the slots stay busy while a
    chunk commits and no chunk waits for its slowest request before the next one starts; a crash
    repeats at most the results not yet committed (a chunk plus the requests in flight). When the
    step is done the session finishes: it keeps the model if the plan's next LLM step uses it.
    """
    conv = step.conversation
    stats.model = conv.model
    if conv.instructions is not None:
        return turn_chunks(plan, step, stats, session)
    recorder = CheckpointRecorder(plan, step, stats)
    turn = conv.turns[0]  # a single prompt is a chat of one turn
    check = partial(check_output, turn)
    retries = plan.workflow.retries_for(conv.name)

    def produce(parts: Iterable[list[PostingState]]):
        by_key: dict[str, PostingState] = {}
        current = {"chunk": Chunk([], []), "answered": 0, "unavailable": []}

        def requests():
            for part in parts:  # pulled as slots free up: postings are read a chunk at a time
                for ps in part:
                    try:
                        messages = build_messages(step, ps.posting or {}, ps.outputs)
                    except UnresolvedPlaceholder as exc:
                        recorder.failed(ps, f"{exc}; prompt not sent", current["chunk"], attempts=0)
                        continue
                    by_key[ps.posting_id] = ps
                    yield LLMRequest(ps.posting_id, messages, turn.format, check, retries)

        def cut():
            chunk, answered, unavailable = current["chunk"], current["answered"], current["unavailable"]
            current.update(chunk=Chunk([], []), answered=0, unavailable=[])
            stats.loads, stats.load_seconds = session.stats.loads, session.stats.load_seconds
            return chunk, answered, unavailable

        results = session.run(requests())
        try:
            for result in results:
                ps = by_key.pop(result.key)
                extra = {
                    "attempts": result.attempts,
                    "latency_ms": round(result.latency_seconds * 1000),
                    "tokens_in": result.tokens_in,
                    "tokens_out": result.tokens_out,
                }
                stats.latencies.append(result.latency_seconds)
                stats.tokens_in += result.tokens_in
                stats.tokens_out += result.tokens_out
                current["answered"] += 1
                if result.error is None:
                    recorder.completed(ps, result.output or "", current["chunk"], **extra)
                else:
                    recorder.failed(ps, result.error, current["chunk"], retryable=result.unavailable, **extra)
                    if result.unavailable:
                        current["unavailable"].append(result.error)
                if len(current["chunk"].checkpoints) >= chunk_size:
                    chunk, answered, unavailable = cut()
                    yield chunk
                    _server_gone(conv.name, session.hosts, answered, unavailable)
        finally:
            results.close()  # stops the session's workers when the step stops early
        chunk, answered, unavailable = cut()
        if chunk.checkpoints:
            yield chunk
            _server_gone(conv.name, session.hosts, answered, unavailable)
        session.finish(plan.next_model(step))

    return produce


def _server_gone(conversation: str, hosts: list[str], answered: int, unavailable: list[str]) -> None:
    if answered and len(unavailable) == answered:
        # the server is gone, not the postings: fail the run instead of failing every posting
        raise StepError(
            f"conversation '{conversation}': Ollama at {', '.join(hosts)} stopped answering "
            f"({len(unavailable)} requests of a chunk failed): {unavailable[0]}"
        )


def open_session(ollama: SessionMaker, plan: WorkflowPlan, step: PlannedStep) -> ModelSession:
    """A session for the step's model, checked to exist before any posting is touched."""
    session = ollama.session(step.model, plan.workflow.options_for(step.conversation.name))
    session.ensure_available()
    return session
