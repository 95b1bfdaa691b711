"""`turing try`: a conversation as now defined, on a sample of postings with a result of an earlier definition,
side by side with those results. No checkpoint changes; the answers are stored by request key, so a later
`turing run --stale` asks none of them again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from turing_dagster.ollama.session import ModelSession
from turing_dagster.steps.llm_side import LLMStep
from turing_dagster.steps.python_side import python_chunks
from turing_dagster.steps.qa import Finding, evaluate_rows
from turing_dagster.steps.results import CheckpointRecorder
from turing_dagster.steps.run_step import with_postings
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.store.answers import Answers, StoredAnswer, insert_answers
from turing_dagster.store.checkpoints import Checkpoint, checkpoints_for
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.waves import load_postings
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan

SHOWN = 5  # differing outputs shown side by side


@dataclass
class Compared:
    posting_id: str
    before: str | None
    after: str | None
    next_before: int | None
    next_after: int | None
    error: str | None = None


@dataclass
class Trial:
    conversation: str
    sample: list[str]
    calls: int = 0
    reused: int = 0
    compared: list[Compared] = field(default_factory=list)
    qa_before: list[Finding] = field(default_factory=list)
    qa_after: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> list[Compared]:
        return [c for c in self.compared if c.after != c.before]

    @property
    def rerouted(self) -> list[Compared]:
        return [c for c in self.compared if c.error is None and c.next_after != c.next_before]

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation, "sample": self.sample, "calls": self.calls, "reused": self.reused,
            "changed": len(self.changed),
            "unchanged": sum(1 for c in self.compared if c.after == c.before and not c.error),
            "next_step_changed": [c.posting_id for c in self.rerouted],
            "failed": {c.posting_id: c.error for c in self.compared if c.error},
            "qa_before": {f.check: f.severity for f in self.qa_before},
            "qa_after": {f.check: f.severity for f in self.qa_after},
            "differences": [c.__dict__ for c in self.changed[:SHOWN]],
        }


def sample_postings(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, n: int) -> list[str]:
    """The latest `n` postings whose completed result of this conversation came from an earlier definition."""
    query = (
        sa.select(psc.c.posting_id)
        .where(psc.c.workflow_id == plan.workflow.workflow_id, psc.c.conversation_id == step.conversation.conversation_id,
               psc.c.status == "completed", sa.or_(psc.c.code_version.is_(None), psc.c.code_version != step.version))
        .order_by(psc.c.checkpoint_id.desc())
        .limit(n)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


class _Keep(CheckpointRecorder):
    """Results into memory, and the fresh answers to store: no checkpoint is written."""

    def __init__(self, *args):
        super().__init__(*args)
        self.results: dict[str, Checkpoint] = {}
        self.answers: list[StoredAnswer] = []

    def _add(self, ps, cp, chunk, updates, answers) -> None:
        self.results[ps.posting_id] = cp
        self.answers += answers


def try_conversation(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, posting_ids: list[str],
                     session: ModelSession | None) -> Trial:
    """Run the conversation on the postings, each from its latest stored results of the steps before it."""
    workflow_id, conv = plan.workflow.workflow_id, step.conversation
    trial = Trial(conv.name, list(posting_ids))
    earlier = [s.conversation.conversation_id for s in plan.steps[: step.index]]
    rows = checkpoints_for(engine, workflow_id, posting_ids, [*earlier, conv.conversation_id])
    states = []
    for pid in posting_ids:
        ps = PostingState(pid, (rows.get((pid, conv.conversation_id)) or Checkpoint(pid, 0, "")).wave_key or "")
        for s in plan.steps[: step.index]:
            cp = rows.get((pid, s.conversation.conversation_id))
            if cp is not None and cp.status == "completed":
                ps.outputs[s.conversation.name] = cp.output
        states.append(ps)
    stats = StepStats(model=conv.model)
    keep = _Keep(plan, step, stats)
    if session is None:
        produce = python_chunks(plan, step, stats, keep)
    else:
        produce = LLMStep(plan, step, stats, session, Answers(engine), 35, keep).produce
    for _ in produce(with_postings(engine, states, 35)):
        pass
    with engine.begin() as conn:
        insert_answers(conn, keep.answers)
    trial.calls, trial.reused = stats.calls, stats.count("reused")
    for ps in states:
        old = rows.get((ps.posting_id, conv.conversation_id))
        new = keep.results.get(ps.posting_id)
        trial.compared.append(Compared(
            ps.posting_id, old.output if old else None, new.output if new and new.status == "completed" else None,
            old.next_conversation_id if old else None, new.next_conversation_id if new else None,
            new.error if new and new.status == "failed" else None))
    postings = load_postings(engine, posting_ids)
    trial.qa_before = evaluate_rows(plan, step, [r for (p, c), r in rows.items() if c == conv.conversation_id], postings)
    trial.qa_after = evaluate_rows(plan, step, list(keep.results.values()), postings)
    return trial

