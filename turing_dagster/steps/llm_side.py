"""The LLM side of a step: each posting's chat, asked through stored answers first and the model second.

Every request (a turn, a re-ask) has a key (ollama/keys.py). A key with a stored answer is answered from
`llm_answers` without a call; identical requests in flight are sent once; the rest stream through one
session dispatch over the hosts' slots, a posting's next turn sent as soon as its answer is in. Before a
request is sent the context guard checks it fits (ollama/context.py); `overflow: shorten` cuts the longest
posting field instead of failing. Results are cut into chunks as postings finish, so the slots stay busy
while a chunk commits, and a crash repeats at most a chunk plus the requests in flight.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Protocol

from turing_dagster.ollama.context import Estimate, refusal, reserve
from turing_dagster.ollama.dispatch import Dispatch
from turing_dagster.ollama.errors import ModelNotFoundError
from turing_dagster.ollama.keys import request_key
from turing_dagster.ollama.session import ModelSession
from turing_dagster.ollama.types import LLMRequest, LLMResult
from turing_dagster.steps.chat import Chat
from turing_dagster.steps.results import CheckpointRecorder, Chunk, StepError, storable_problem
from turing_dagster.steps.shorten import posting_fields, shorten
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.answers import StoredAnswer
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.placeholders import UnresolvedPlaceholder
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan

_RECENT = 4096  # answers of this run kept in memory for identical requests not committed yet
GONE_AFTER = 8  # the server's failures in a row, each through its retries, that fail the run


class SessionMaker(Protocol):
    """Where sessions come from: the pool, or the Dagster resource that wraps it."""

    def session(self, model: str, options: dict | None = None, workflow: str | None = None) -> ModelSession: ...


class AnswerSource(Protocol):
    def lookup(self, keys: Iterable[str]) -> dict[str, StoredAnswer]: ...


class LLMStep:
    """Produces a conversation's chunks of results over its to-do postings (one use per step)."""

    def __init__(self, plan: WorkflowPlan, step: PlannedStep, stats: StepStats, session: ModelSession,
                 answers: AnswerSource, chunk_size: int, recorder: CheckpointRecorder | None = None):
        self.plan, self.step, self.stats, self.session, self.store = plan, step, stats, session, answers
        self.conv = step.conversation
        self.chunk_size = max(1, chunk_size)
        self.recorder = recorder or CheckpointRecorder(plan, step, stats)
        self.options = plan.workflow.options_for(self.conv.name)  # what the workflow sets: part of the key
        self.retries = plan.workflow.retries_for(self.conv.name)
        self.fields = posting_fields(self.conv)
        stats.model = self.conv.model
        self._dispatch: Dispatch | None = None
        self._broken: str | None = None  # the model could not be loaded: every request fails, retryable
        self._waiting: dict[tuple[str, str], list[Chat]] = {}  # ticket -> chats waiting for that one call
        self._recent: OrderedDict[str, StoredAnswer] = OrderedDict()
        self._ready: list[Chat] = []
        self._chunk = Chunk()
        self._gone: list[str] = []  # the server's failures since its last answer (a run of them: it is gone)
        self._refused = False  # and whether one of them found no server listening
        self._digest: str | None = None

    # -- the requests -------------------------------------------------------------------------------

    def _key(self, chat: Chat) -> str:
        return request_key(self.conv.model, self._digest, chat.messages(), self.conv.turns[chat.turn].format,
                           self.options)

    def _remember(self, key: str, answer: StoredAnswer) -> None:
        self._recent[key] = answer
        self._recent.move_to_end(key)
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def _resolve(self) -> None:
        """Answer every ready chat's request: stored answers in one lookup per batch, the rest sent."""
        while self._ready:
            batch, self._ready = self._ready, []
            for chat in batch:
                chat.key = self._key(chat)
            need = [c.key for c in batch if self.conv.reuse and not c.fresh and c.key not in self._recent]
            found = self.store.lookup(need) if need else {}
            for chat in batch:
                hit = (self._recent.get(chat.key) or found.get(chat.key)) if self.conv.reuse else None
                if hit is not None and self._problem(chat.turn, hit.output) is not None:
                    hit = None  # stored before answers were checked first: ask the model instead
                if hit is not None:
                    self._remember(chat.key, hit)
                    chat.took(None, hit, fresh=False)
                    self._answered_with(chat, hit.output, reused=True, reason=None)
                elif self._ticket(chat) in self._waiting:
                    self._waiting[self._ticket(chat)].append(chat)  # the same request is in flight: one call
                else:
                    self._send(chat)

    def _ticket(self, chat: Chat) -> tuple[str, str]:
        """What one call answers: a request key, shared by every chat asking it; with `reuse: false`, one
        posting's own request (the model is asked for each)."""
        return (chat.key, "" if self.conv.reuse else chat.ps.posting_id)

    def _send(self, chat: Chat) -> None:
        if self._broken is None and self._dispatch is None:
            try:
                self._dispatch = self.session.start()
            except ModelNotFoundError:
                raise
            except Exception as exc:  # noqa: BLE001 - the server's trouble: every posting retryable
                self._broken = f"model {self.session.model} not loaded: {exc}"
        if self._broken is not None:
            self._gone.append(self._broken)
            self._fail(chat, self._broken, retryable=True)
            return
        num_ctx = self.session.context_length()
        messages = chat.messages()
        needed, estimate = self._needed(chat, num_ctx)
        chat.snapshot["context"] = {"num_ctx": num_ctx, "tokens_estimated": needed}
        if needed + reserve(self.options, num_ctx) > num_ctx:
            if self._shorten(chat, num_ctx):
                self._ready.append(chat)
                return
            self._fail(chat, f"posting {chat.ps.posting_id}: " + refusal(Estimate(needed, estimate.chars), num_ctx,
                                                                         self.session.model, self.options))
            return
        self._waiting[self._ticket(chat)] = [chat]
        self.stats.calls += 1
        # `retries` are extra attempts on transient errors too, not only re-asks after an invalid answer
        self._dispatch.submit(LLMRequest(chat.ps.posting_id, messages, self.conv.turns[chat.turn].format, chat.key,
                                         num_ctx, estimate, attempts=self.retries + 1))

    def _needed(self, chat: Chat, num_ctx: int) -> tuple[int, Estimate]:
        """Tokens the request needs (before its first request, a chat's later turns and their answers too)."""
        estimate = Estimate.of(chat.messages())
        needed = estimate.tokens
        if chat.turn == 0 and not chat.reasks and chat.multi:  # the whole chat must fit, not only turn 1
            later = chat.later_turns()
            needed += Estimate.of(later).tokens + reserve(self.options, num_ctx) * len(later)
        return needed, estimate

    def _shorten(self, chat: Chat, num_ctx: int) -> bool:
        """`overflow: shorten`, before the chat's first request: cut the longest posting field to fit."""
        if self.conv.overflow != "shorten" or chat.turn or chat.reasks or "shortened" in chat.snapshot:
            return False

        def excess(posting: dict) -> int:
            trial = Chat(chat.ps, self.conv, posting)
            try:
                trial.start()
            except UnresolvedPlaceholder:
                return 0  # the refusal or the missing value is reported by the real chat
            return self._needed(trial, num_ctx)[0] + reserve(self.options, num_ctx) - num_ctx

        done = shorten(chat.posting, self.fields, excess)
        if done is None:
            return False
        chat.posting, chat.snapshot["shortened"] = done
        chat.start()
        return True

    # -- the answers --------------------------------------------------------------------------------

    def _problem(self, turn: int, text: str) -> str | None:
        """Why an answer fails its turn's `format` / `validate` (None: it passes)."""
        try:
            return check_output(self.conv.turns[turn], text)
        except Exception as exc:  # noqa: BLE001 - a broken check fails its posting
            return f"output check raised {type(exc).__name__}: {exc}"

    def _answered_with(self, chat: Chat, text: str, reused: bool, reason: str | None) -> None:
        """Take a checked answer (`reason`: why it fails its turn's checks, from `_problem`; None: it passes)."""
        if reason is not None:
            if chat.asks > self.retries:
                self._fail(chat, f"invalid output after {chat.asks} attempts: {reason}")
            else:
                chat.reask(text, reason)
                self._ready.append(chat)
            return
        try:
            more = chat.advance(text, reused)
        except UnresolvedPlaceholder as exc:
            self._fail(chat, f"{exc}; prompt not sent")
            return
        if more:
            self._ready.append(chat)
            return
        self.stats.latencies.append(chat.latency)
        self.recorder.completed(chat.ps, text, self._chunk, snapshot=chat.kept(), answers=chat.answers, **chat.extra())

    def _fail(self, chat: Chat, reason: str, retryable: bool = False) -> None:
        prefix = f"turn {chat.turn + 1}: " if chat.multi else ""
        self.stats.latencies.append(chat.latency)
        self.recorder.failed(chat.ps, prefix + reason, self._chunk, retryable=retryable, snapshot=chat.kept(),
                             answers=chat.answers, **chat.extra())

    def _on_result(self, result: LLMResult) -> None:
        chats = self._waiting.pop((result.request_key, "" if self.conv.reuse else result.key), [])
        if result.unavailable:
            self._gone.append(result.error or "")
            self._refused = self._refused or result.refused
        else:
            self._gone, self._refused = [], False
        self.stats.tokens_in += result.tokens_in
        self.stats.tokens_out += result.tokens_out
        if result.error is None and (problem := storable_problem(result.output)):
            result.error = f"the answer cannot be stored: {problem}"
        if result.error is not None:
            for i, chat in enumerate(chats):
                chat.took(result if i == 0 else None, None, fresh=i == 0)
                if result.cut:
                    chat.snapshot.setdefault("context", {})["cut"] = True
                self._fail(chat, result.error, retryable=result.unavailable)
            return
        answer = StoredAnswer(result.request_key, self.session.model, self._digest, result.output or "",
                              result.tokens_in, result.tokens_out, round(result.latency_seconds * 1000))
        # checked once for every chat asking it (one request: one turn). Only a good answer is kept for its key:
        # an invalid one, reused, would fail every later run the same way
        reason = self._problem(chats[0].turn, answer.output) if chats else None
        if reason is None:
            self._remember(answer.request_key, answer)
        for i, chat in enumerate(chats):
            chat.took(result if i == 0 else None, answer, fresh=i == 0)
            if i == 0 and reason is None:
                chat.answers.append(answer)
                chat.snapshot.setdefault("context", {})["evaluated"] = result.tokens_in
            self._answered_with(chat, answer.output, reused=i > 0, reason=reason)

    # -- the stream ---------------------------------------------------------------------------------

    def _full_chunks(self, final: bool = False) -> Iterator[Chunk]:
        while len(self._chunk) >= self.chunk_size or (final and len(self._chunk)):
            chunk = Chunk(self._chunk.rows[: self.chunk_size])
            self._chunk.rows = self._chunk.rows[self.chunk_size :]
            self.stats.loads, self.stats.load_seconds = self.session.stats.loads, self.session.stats.load_seconds
            yield chunk
            if len(self._gone) >= GONE_AFTER or (self._gone and self._refused):
                # the server is gone, not the postings: fail the run instead of failing every posting. A host
                # that refuses connections is down; a few 5xx in a row are chance (a small last chunk of them
                # once failed a whole run)
                raise StepError(
                    f"conversation '{self.conv.name}': Ollama at {', '.join(self.session.hosts)} stopped answering "
                    f"({len(self._gone)} requests in a row failed through their retries): {self._gone[0]}"
                )

    def produce(self, parts: Iterable[list[PostingState]]) -> Iterator[Chunk]:
        source = iter(parts)
        exhausted = False
        target = 4 * max(1, self.session.slots)  # queued + in flight: the slots never wait on a chunk's commit
        try:
            while True:
                while not exhausted and (self._dispatch is None or self._dispatch.outstanding < target):
                    part = next(source, None)
                    if part is None:
                        exhausted = True
                        break
                    if self._digest is None:
                        self._digest = self.session.digest()
                    for ps in part:
                        chat = Chat(ps, self.conv, ps.posting or {})
                        try:
                            chat.start()
                        except UnresolvedPlaceholder as exc:
                            self.recorder.failed(ps, f"{exc}; prompt not sent", self._chunk, attempts=0)
                            continue
                        self._ready.append(chat)
                    self._resolve()
                    yield from self._full_chunks()
                if self._dispatch is None or not self._dispatch.outstanding:
                    if exhausted:
                        break
                    continue
                self._on_result(self.session.record(self._dispatch.get()))
                self._resolve()
                yield from self._full_chunks()
            yield from self._full_chunks(final=True)
        finally:
            if self._dispatch is not None:
                self._dispatch.shutdown()
        self.session.finish(self.plan.next_model(self.step))


def open_session(ollama: SessionMaker, plan: WorkflowPlan, step: PlannedStep) -> ModelSession:
    """A session for the step's model on its workflow's hosts; nothing is contacted until it is used."""
    return ollama.session(step.model, plan.workflow.options_for(step.conversation.name), workflow=plan.workflow.name)

