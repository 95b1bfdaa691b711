"""`turing plan`: what a run would do, without calling a model.

Each wave is walked through the plan as a run would walk it, with the answers stored by request key in
place of the model: a request whose key has an answer is answered (so its posting's next prompts can be
rendered and looked up in turn), Python steps simply run (they are cheap), and a request without one is
a call. Calls are exact up to a posting's first call; after it the answer is unknown, so the postings'
later LLM steps count as an upper bound (every request they could reach, marked as such).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from turing_dagster.ollama.calls import normalize_model
from turing_dagster.ollama.context import Estimate, refusal, reserve
from turing_dagster.ollama.errors import OllamaError
from turing_dagster.ollama.pool import HostPool
from turing_dagster.steps.chat import Chat
from turing_dagster.steps.classify import classify
from turing_dagster.steps.llm_side import AnswerSource, LLMStep
from turing_dagster.steps.progress import step_versions
from turing_dagster.steps.python_side import python_chunks
from turing_dagster.steps.results import CheckpointRecorder, Chunk
from turing_dagster.steps.run_step import with_postings
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState, load_wave
from turing_dagster.store.answers import Answers
from turing_dagster.store.runs import throughput
from turing_dagster.store.standing import Scope, Standing, State, wave_standings
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name
from turing_dagster.workflows.routing import next_after

# postings whose fields are read at once: the walk commits nothing, so it reads in batches larger than a
# run's chunk (one query per 35 postings was a tenth of a 900-posting preview); memory stays bounded
READ_BATCH = 300


@dataclass
class StepPlan:
    step: str
    pending: int = 0
    stale: int = 0
    failed: int = 0
    calls: int = 0
    calls_exact: bool = True
    reusable: int = 0  # requests a stored answer serves
    estimated_seconds: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Preview:
    workflow: str
    scope: Scope
    steps: list[StepPlan] = field(default_factory=list)
    postings: int = 0  # postings the run would take

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.steps)

    @property
    def exact(self) -> bool:
        return all(s.calls_exact for s in self.steps)

    def line(self) -> str:
        """The one-line summary `turing run` prints before it starts."""
        seconds = [s.estimated_seconds for s in self.steps if s.calls]
        time = (f", ~{sum(seconds):.0f} s of model time" if seconds and None not in seconds else
                ", model time unknown (no earlier run of a model)" if seconds else "")
        bound = "" if self.exact else " at most"
        return (f"plan: {self.postings} posting(s), {bound.strip() + ' ' if bound else ''}{self.calls} model call(s), "
                f"{sum(s.reusable for s in self.steps)} answer(s) reused{time}")


class _DryStep(LLMStep):
    """The LLM side with stored answers only: a request without one is counted, never sent."""

    def __init__(self, *args, digest: str | None, counts: StepPlan, unknown: set[str], **kw):
        super().__init__(*args, **kw)
        self._digest, self.counts, self.unknown = digest, counts, unknown
        self._asked: set[str] = set()  # a run sends identical requests once

    def _answered_with(self, chat: Chat, text: str, reused: bool, reason: str | None) -> None:
        if reused:
            self.counts.reusable += 1
        super()._answered_with(chat, text, reused, reason)

    def _send(self, chat: Chat) -> None:
        num_ctx = (self.options or {}).get("num_ctx")
        if isinstance(num_ctx, int) and num_ctx > 0:  # the guard, where the workflow says the context
            needed = self._needed(chat, num_ctx)[0]
            if needed + reserve(self.options, num_ctx) > num_ctx and not self.conv.overflow == "shorten":
                self._fail(chat, refusal(Estimate(needed, 0), num_ctx, self.conv.model, self.options))
                return
        self.unknown.add(chat.ps.posting_id)
        if chat.key in self._asked:
            self.counts.reusable += 1
            return
        self._asked.add(chat.key)
        self.counts.calls += 1
        rest = len(self.conv.turns) - chat.turn - 1  # the turns after this one: one request each, keys unknown
        if rest:
            self.counts.calls_exact = False
            self.counts.calls += rest


class _Session:
    """What the dry step asks of a session: nothing that reaches a server."""

    def __init__(self, model: str):
        self.model, self.slots, self.hosts = model, 1, []
        self.stats = StepStats()

    def digest(self) -> str | None:
        return None

    def finish(self, next_model: str | None) -> None:
        pass


def _reachable(plan: WorkflowPlan, step: PlannedStep) -> list[PlannedStep]:
    """The LLM steps a posting could still reach after `step`, on any route."""
    reach, todo = set(), [step.conversation.name]
    while todo:
        for nxt in plan.workflow.successors(todo.pop()):
            if nxt not in reach:
                reach.add(nxt)
                todo.append(nxt)
    return [plan.step(n) for n in sorted(reach) if plan.step(n).model]


def known_digests(plan: WorkflowPlan, answers: Answers, pool: HostPool | None) -> tuple[dict[str, str | None], list[str]]:
    """Each model's digest, for the request keys: as the workflow's hosts list it (/api/tags: no model is
    called), else as it was when an answer of it was last stored. Returns the digests and notes on the latter."""
    digests, notes = {}, []
    try:  # one /api/tags per host, kept by the pool for the sessions below; a host that does not answer is
        for host in pool.hosts() if pool is not None else []:  # asked once, not once per model
            pool.digests(host)
    except OllamaError as exc:
        notes.append(f"digests not asked: {exc}")
        pool = None
    for model in sorted({s.model for s in plan.steps if s.model}):
        try:
            digests[model] = pool.session(model).digest() if pool is not None else None
        except OllamaError:
            digests[model] = None
        if digests[model] is None:
            digests[model] = answers.latest_digest(normalize_model(model))
            notes.append(f"{model}: no Ollama host listed it; its digest is the one its last stored answer had")
    return digests, notes


def preview(engine: sa.Engine, plan: WorkflowPlan, scope: Scope, answers: AnswerSource, waves: Iterable[str],
            digests: dict[str, str | None], unadmitted: Iterable[list[str]] = ()) -> Preview:
    """Walk the waves through the plan with stored answers only (one wave in memory at a time); then the
    `unadmitted` postings, a batch at a time as the waves a run would admit them into: new, at the first step."""
    out = Preview(plan.workflow.name, scope, [StepPlan(asset_name(s.conversation)) for s in plan.steps])
    for wave in waves:
        _wave(engine, plan, scope, answers, wave, digests, out)
    for batch in unadmitted:
        standings = {pid: Standing(pid, "", State.PENDING, 0) for pid in batch}
        _wave(engine, plan, scope, answers, "", digests, out, standings)
    for step, counts in zip(plan.steps, out.steps, strict=True):
        if step.model and counts.calls:
            rate = throughput(engine, step.model).seconds_per_call
            counts.estimated_seconds = None if rate is None else round(counts.calls * rate, 1)
    return out


def _wave(engine: sa.Engine, plan: WorkflowPlan, scope: Scope, answers: AnswerSource, wave: str,
          digests: dict[str, str | None], out: Preview, standings: dict[str, Standing] | None = None) -> None:
    states: dict[str, PostingState] = {}
    unknown: set[str] = set()
    if standings is None:  # read once: a walk writes nothing
        standings = wave_standings(engine, plan.workflow.workflow_id, step_versions(plan), wave)
    for step, counts in zip(plan.steps, out.steps, strict=True):
        here = {ps.posting_id: ps for ps in load_wave(engine, plan, wave, step.index, standings=standings)}
        for pid, ps in here.items():  # what the store says, unless this walk already moved the posting on
            if pid not in states and ps.standing.at == step.index and scope.takes(
                    ps.standing.state, ps.standing.retryable, ps.standing.failed):
                states[pid] = ps
                out.postings += 1
        walking = [ps for pid, ps in states.items() if pid not in unknown]
        split = classify(plan, step, walking, Scope.explicit())
        recorder = _Recorder(plan, step, StepStats())
        for ps, next_id in split.skipped:
            _moved(ps, step, next_id, None)
        if not split.todo:
            continue
        known = set(unknown)
        if step.model is None:
            produce = python_chunks(plan, step, recorder.stats, recorder)
        else:
            produce = _DryStep(plan, step, recorder.stats, _Session(step.model), answers, READ_BATCH, recorder,
                               digest=digests.get(step.model), counts=counts, unknown=unknown).produce
        for _ in produce(with_postings(engine, split.todo, READ_BATCH)):
            pass
        for ps, output, next_id in recorder.done:
            _moved(ps, step, next_id, output)
        for later in _reachable(plan, step) if unknown - known else []:
            # their answers are unknown, so their routes are: every request they could still make
            counts_later = out.steps[later.index]
            counts_later.calls += len(unknown - known) * len(later.conversation.turns)
            counts_later.calls_exact = False


def _moved(ps: PostingState, step: PlannedStep, next_id: int | None, output: str | None) -> None:
    if output is not None:
        ps.outputs[step.conversation.name] = output
    s = ps.standing
    ps.standing = Standing(s.posting_id, s.wave_key, State.PENDING, step.index + 1, next_id=next_id)
    ps.own = None


class _Recorder(CheckpointRecorder):
    """Keeps each posting's result in memory: where the walk takes it next."""

    def __init__(self, *args):
        super().__init__(*args)
        self.done: list[tuple[PostingState, str | None, int | None]] = []

    def completed(self, ps: PostingState, output: str, chunk: Chunk, **_kw) -> None:
        target = next_after(self.plan.workflow, self.step.conversation.name, output)
        self.done.append((ps, output, self.plan.by_name[target].conversation.conversation_id if target else None))

    def failed(self, ps: PostingState, reason: str, chunk: Chunk, **_kw) -> None:
        pass  # a failure ends the posting's walk here: no later call
