"""The LLM side of a step: prompts from checkpoints, one model session, results chunk by chunk."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from turing_dagster.ollama.session import ModelSession
from turing_dagster.ollama.types import LLMRequest, LLMResult
from turing_dagster.steps.prompts import system_messages, turn_message
from turing_dagster.steps.results import CheckpointRecorder, Chunk, Producer, StepError
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.checkpoints import batched
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.placeholders import UnresolvedPlaceholder
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


class SessionMaker(Protocol):
    """Where sessions come from: the pool, or the Dagster resource that wraps it."""

    def session(self, model: str, options: dict | None = None) -> ModelSession: ...


@dataclass
class _Chat:
    """One posting's chat with the model through the turns of its conversation."""

    ps: PostingState
    messages: list[dict]
    turns: list[dict] = field(default_factory=list)  # every turn's prompt and answer, for the checkpoint
    attempts: int = 0
    latency: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0

    def add(self, result: LLMResult) -> None:
        self.attempts += result.attempts
        self.latency += result.latency_seconds
        self.tokens_in += result.tokens_in
        self.tokens_out += result.tokens_out

    def extra(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "latency_ms": round(self.latency * 1000),
                "tokens_in": self.tokens_in, "tokens_out": self.tokens_out}


def llm_chunks(
    plan: WorkflowPlan,
    step: PlannedStep,
    postings: dict[str, dict],
    stats: StepStats,
    chunk_size: int,
    session: ModelSession,
) -> Producer:
    """A producer for StepOutput: each chunk's requests run with the host's slots, then commit together.

    Chunks are sent one after another, so a crash repeats at most the chunk in flight. A conversation
    with `instructions` runs turn by turn on the same session (one model load): turn k for every
    posting of the chunk, then turn k+1 with each posting's chat so far; the chunk commits after the
    last turn, so a crash between turns redoes those postings' conversations only. When the step is
    done the session finishes: it keeps the model if the plan's next LLM step uses it.
    """
    conv = step.conversation
    recorder = CheckpointRecorder(plan, step, stats)
    retries = plan.workflow.retries_for(conv.name)
    turns = conv.turns
    multi = conv.instructions is not None
    stats.model = conv.model

    def fail(chat: _Chat, reason: str, chunk: Chunk, index: int, retryable: bool = False) -> None:
        where = f"turn {index + 1}: " if multi else ""
        stats.latencies.append(chat.latency)
        turns_so_far = {"turns": chat.turns} if multi and chat.turns else None  # what the chat got through
        recorder.failed(chat.ps, where + reason, chunk, retryable=retryable, snapshot=turns_so_far, **chat.extra())

    def run_turn(index: int, chats: dict[str, _Chat], chunk: Chunk) -> None:
        turn = turns[index]
        requests, pending = [], {}
        for pid, chat in list(chats.items()):
            answers = [t["answer"] for t in chat.turns]
            try:
                pending[pid] = turn_message(conv, index, postings[pid], chat.ps.outputs, answers)
            except UnresolvedPlaceholder as exc:
                fail(chats.pop(pid), f"{exc}; prompt not sent", chunk, index)
                continue
            requests.append(LLMRequest(pid, [*chat.messages, pending[pid]], turn.format,
                                       partial(check_output, turn), retries))
        unavailable = []
        for result in session.run(requests):
            chat = chats[result.key]
            chat.add(result)
            stats.tokens_in += result.tokens_in
            stats.tokens_out += result.tokens_out
            if result.error is None:
                answer = result.output or ""
                chat.messages += [pending[result.key], {"role": "assistant", "content": answer}]
                chat.turns.append({"prompt": pending[result.key]["content"], "answer": answer,
                                   "attempts": result.attempts})
                continue
            fail(chats.pop(result.key), result.error, chunk, index, retryable=result.unavailable)
            if result.unavailable:
                unavailable.append(result.error)
        if requests and len(unavailable) == len(requests):
            # the server is gone, not the postings: fail the run instead of failing every posting
            raise StepError(
                f"conversation '{conv.name}': Ollama at {', '.join(session.hosts)} stopped answering "
                f"({len(unavailable)} requests of a chunk failed): {unavailable[0]}"
            )

    def produce(todo: list[PostingState]):
        for part in batched(todo, chunk_size):
            chunk = Chunk([], [])
            chats: dict[str, _Chat] = {}
            for ps in part:
                try:
                    chats[ps.posting_id] = _Chat(ps, system_messages(conv, postings[ps.posting_id], ps.outputs))
                except UnresolvedPlaceholder as exc:
                    recorder.failed(ps, f"{exc}; prompt not sent", chunk, attempts=0)
            try:
                for index in range(len(turns)):
                    if chats:
                        run_turn(index, chats, chunk)
            except StepError:
                yield chunk  # the failures recorded so far are kept, retryable
                raise
            for chat in chats.values():
                stats.latencies.append(chat.latency)
                snapshot = {"snapshot": {"turns": chat.turns}} if multi else {}
                recorder.completed(chat.ps, chat.turns[-1]["answer"], chunk, **chat.extra(), **snapshot)
            stats.loads, stats.load_seconds = session.stats.loads, session.stats.load_seconds
            yield chunk
        session.finish(plan.next_model(step))

    return produce


def open_session(ollama: SessionMaker, plan: WorkflowPlan, step: PlannedStep) -> ModelSession:
    """A session for the step's model, checked to exist before any posting is touched."""
    session = ollama.session(step.model, plan.workflow.options_for(step.conversation.name))
    session.ensure_available()
    return session
