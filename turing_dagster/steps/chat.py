"""One posting's chat with the model through its conversation's turns: what to ask next, what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from turing_dagster.ollama.types import LLMResult
from turing_dagster.steps.prompts import system_messages, turn_message
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.answers import StoredAnswer
from turing_dagster.workflows.spec import Conversation

REASK = "Your answer was invalid: {reason}. Answer again following the instructions exactly."


@dataclass
class Chat:
    """A posting's chat: the system message, the turns answered so far, and the request being asked now.

    A single `prompt` is a chat of one turn. An invalid answer is re-asked in the same chat with the reason;
    every request goes through the same path (a stored answer by its key, or the model)."""

    ps: PostingState
    conv: Conversation
    posting: dict[str, Any]  # the fields the prompts are rendered from (cut ones with `overflow: shorten`)
    system: list[dict] = field(default_factory=list)
    done: list[dict] = field(default_factory=list)  # the answered turns' user and assistant messages
    user: dict | None = None  # the current turn's message
    reasks: list[dict] = field(default_factory=list)  # invalid answers of this turn and the complaints
    turn: int = 0
    asks: int = 0  # answers received for the current turn
    turns: list[dict] = field(default_factory=list)  # every answered turn, for the checkpoint
    attempts: int = 0
    latency: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    reused: bool = True  # every answer came without a call
    fresh: bool = False  # the latest answer came from the model: the next request cannot be stored yet
    answers: list[StoredAnswer] = field(default_factory=list)  # answers to store with this posting's row
    snapshot: dict[str, Any] = field(default_factory=dict)  # `context`, `shortened`
    key: str | None = None  # the current request's key
    last_key: str | None = None

    def start(self) -> None:
        """Render the system message and the first turn (UnresolvedPlaceholder when a value is missing)."""
        self.system = system_messages(self.conv, self.posting, self.ps.outputs)
        self.user = turn_message(self.conv, 0, self.posting, self.ps.outputs, [])

    def messages(self) -> list[dict]:
        return [*self.system, *self.done, self.user, *self.reasks]

    @property
    def multi(self) -> bool:
        return self.conv.instructions is not None

    def took(self, result: LLMResult | None, answer: StoredAnswer | None, fresh: bool) -> None:
        """Count what this answer cost (nothing when it was stored or asked by an identical chat)."""
        self.asks += 1
        self.fresh = fresh
        if result is not None and fresh:
            self.attempts += result.attempts
            self.latency += result.latency_seconds
            self.tokens_in += result.tokens_in
            self.tokens_out += result.tokens_out
            self.reused = False
        elif answer is not None:
            self.tokens_in += answer.tokens_in or 0
            self.tokens_out += answer.tokens_out or 0

    def reask(self, answer: str, reason: str) -> None:
        self.reasks += [{"role": "assistant", "content": answer},
                        {"role": "user", "content": REASK.format(reason=reason)}]

    def advance(self, answer: str, reused: bool) -> bool:
        """Keep the turn's answer; render the next turn. False when this was the last turn."""
        self.turns.append({"prompt": self.user["content"], "answer": answer, "attempts": self.asks,
                           "request_key": self.key, "reused": reused})
        self.last_key = self.key
        self.done += [self.user, {"role": "assistant", "content": answer}]
        self.reasks, self.asks = [], 0
        self.turn += 1
        if self.turn >= len(self.conv.turns):
            return False
        answers = [t["answer"] for t in self.turns]
        self.user = turn_message(self.conv, self.turn, self.posting, self.ps.outputs, answers)
        return True

    def later_turns(self) -> list[dict]:
        """The turns after the first, rendered with empty answers: their size counts when a chat is checked
        against the window before its first request."""
        found = []
        for index in range(1, len(self.conv.turns)):
            try:
                found.append(turn_message(self.conv, index, self.posting, self.ps.outputs, [""] * index))
            except Exception:  # noqa: BLE001 - a missing value fails that turn when it is asked
                continue
        return found

    def extra(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "latency_ms": round(self.latency * 1000), "tokens_in": self.tokens_in,
                "tokens_out": self.tokens_out, "request_key": self.last_key or self.key, "reused": self.reused}

    def kept(self) -> dict[str, Any]:
        """What the checkpoint's state_snapshot keeps of the chat."""
        return {**self.snapshot, **({"turns": self.turns} if self.multi and self.turns else {})}
