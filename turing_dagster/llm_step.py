"""The LLM side of a step: prompts from checkpoints, one model session, results chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from turing_dagster.ollama_resource import OllamaModels
from turing_dagster.ollama_session import LLMRequest, ModelSession
from turing_dagster.output_checks import check_output
from turing_dagster.placeholders import UnresolvedPlaceholder
from turing_dagster.planning import PlannedStep, WorkflowPlan
from turing_dagster.stats import StepStats
from turing_dagster.step import Chunk, CheckpointFactory, StepError, build_messages
from turing_dagster.store.checkpoints import batched
from turing_dagster.wave_state import PostingState


def llm_chunks(
    plan: WorkflowPlan,
    step: PlannedStep,
    postings: dict[str, dict],
    stats: StepStats,
    chunk_size: int,
    session: ModelSession,
) -> Callable[[list[PostingState]], Iterator[Chunk]]:
    """A producer for StepOutput: each chunk's requests run with the host's slots, then commit together.

    Chunks are sent one after another, so a crash repeats at most the chunk in flight. The model
    stays loaded when the step ends: the next step's session keeps it if it needs the same model
    and swaps it otherwise, and the resource unloads what is left when the run ends.
    """
    conv = step.conversation
    factory = CheckpointFactory(plan, step, stats)
    check = partial(check_output, conv)
    retries = plan.workflow.retries_for(conv.name)
    stats.model = conv.model

    def produce(todo: list[PostingState]) -> Iterator[Chunk]:
        for part in batched(todo, chunk_size):
            chunk = Chunk([], [])
            requests, by_key, unavailable = [], {}, []
            for ps in part:
                try:
                    messages = build_messages(step, postings[ps.posting_id], ps.outputs)
                except UnresolvedPlaceholder as exc:
                    factory.failed(ps, f"{exc}; prompt not sent", chunk, attempts=0)
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
                    factory.completed(ps, result.output or "", chunk, **extra)
                else:
                    factory.failed(ps, result.error, chunk, retryable=result.unavailable, **extra)
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

    return produce


def open_session(ollama: OllamaModels, plan: WorkflowPlan, step: PlannedStep) -> ModelSession:
    """A session for the step's model, checked to exist before any posting is touched."""
    session = ollama.session(step.model, plan.workflow.options_for(step.conversation.name))
    session.ensure_available()
    return session
