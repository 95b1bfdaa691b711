"""The LLM side of a step: prompts from checkpoints, one model session, results chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Protocol

from turing_dagster.ollama.session import ModelSession
from turing_dagster.ollama.types import LLMRequest
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
) -> Producer:
    """A producer for StepOutput: each chunk's requests run with the host's slots, then commit together.

    Chunks are sent one after another, so a crash repeats at most the chunk in flight. When the
    step is done the session finishes: it keeps the model if the plan's next LLM step uses it.
    """
    conv = step.conversation
    recorder = CheckpointRecorder(plan, step, stats)
    check = partial(check_output, conv)
    retries = plan.workflow.retries_for(conv.name)
    stats.model = conv.model

    def produce(parts: Iterable[list[PostingState]]):
        for part in parts:
            chunk = Chunk([], [])
            requests, by_key, unavailable = [], {}, []
            for ps in part:
                try:
                    messages = build_messages(step, ps.posting, ps.outputs)
                except UnresolvedPlaceholder as exc:
                    recorder.failed(ps, f"{exc}; prompt not sent", chunk, attempts=0)
                    continue
                by_key[ps.posting_id] = ps
                requests.append(LLMRequest(ps.posting_id, messages, conv.format, check, retries))
            for result in session.run(requests):
                ps = by_key[result.key]
                extra = {
                    "attempts": result.attempts,
                    "latency_ms": round(result.latency_seconds * 1000),
                    "tokens_in": result.tokens_in,
                    "tokens_out": result.tokens_out,
                }
                stats.latencies.append(result.latency_seconds)
                stats.tokens_in += result.tokens_in
                stats.tokens_out += result.tokens_out
                if result.error is None:
                    recorder.completed(ps, result.output or "", chunk, **extra)
                else:
                    recorder.failed(ps, result.error, chunk, retryable=result.unavailable, **extra)
                    if result.unavailable:
                        unavailable.append(result.error)
            stats.loads, stats.load_seconds = session.stats.loads, session.stats.load_seconds
            yield chunk
            if requests and len(unavailable) == len(requests):
                # the server is gone, not the postings: fail the run instead of failing every posting
                raise StepError(
                    f"conversation '{conv.name}': Ollama at {session.host} stopped answering "
                    f"({len(unavailable)} requests of a chunk failed): {unavailable[0]}"
                )
        session.finish(plan.next_model(step))

    return produce


def open_session(ollama: SessionMaker, plan: WorkflowPlan, step: PlannedStep) -> ModelSession:
    """A session for the step's model, checked to exist before any posting is touched."""
    session = ollama.session(step.model, plan.workflow.options_for(step.conversation.name))
    session.ensure_available()
    return session
