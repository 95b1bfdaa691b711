"""A multi-turn conversation (`instructions:`): one chat per posting, turn by turn, on one session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from turing_dagster.ollama.session import ModelSession
from turing_dagster.ollama.types import LLMRequest, LLMResult
from turing_dagster.steps.prompts import system_messages, turn_message
from turing_dagster.steps.results import CheckpointRecorder, Chunk, Producer, StepError
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.placeholders import UnresolvedPlaceholder
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


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


def turn_chunks(plan: WorkflowPlan, step: PlannedStep, stats: StepStats, session: ModelSession) -> Producer:
    """Each chunk of postings chats turn by turn: turn k for every posting of the chunk, then turn k+1
    with each posting's chat so far. The chunk commits after the last turn, so a crash between turns
    redoes those postings' conversations only; one model load serves every turn."""
    conv = step.conversation
    recorder = CheckpointRecorder(plan, step, stats)
    retries = plan.workflow.retries_for(conv.name)
    turns = conv.turns

    def fail(chat: _Chat, reason: str, chunk: Chunk, index: int, retryable: bool = False) -> None:
        stats.latencies.append(chat.latency)
        turns_so_far = {"turns": chat.turns} if chat.turns else None  # what the chat got through
        recorder.failed(chat.ps, f"turn {index + 1}: {reason}", chunk, retryable=retryable, snapshot=turns_so_far,
                        **chat.extra())

    def run_turn(index: int, chats: dict[str, _Chat], chunk: Chunk) -> None:
        turn = turns[index]
        requests, pending = [], {}
        for pid, chat in list(chats.items()):
            answers = [t["answer"] for t in chat.turns]
            try:
                pending[pid] = turn_message(conv, index, chat.ps.posting or {}, chat.ps.outputs, answers)
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

    def produce(parts: Iterable[list[PostingState]]):
        for part in parts:  # the to-do postings a chunk at a time, their fields loaded
            chunk = Chunk([], [])
            chats: dict[str, _Chat] = {}
            for ps in part:
                try:
                    chats[ps.posting_id] = _Chat(ps, system_messages(conv, ps.posting or {}, ps.outputs))
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
                recorder.completed(chat.ps, chat.turns[-1]["answer"], chunk, **chat.extra(),
                                   snapshot={"turns": chat.turns})
            stats.loads, stats.load_seconds = session.stats.loads, session.stats.load_seconds
            yield chunk
        session.finish(plan.next_model(step))

    return produce
