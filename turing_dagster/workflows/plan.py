"""The order a wave goes through a workflow, and which checkpoints are still current."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from turing_dagster.workflows.spec import Conversation, Workflow
from turing_dagster.workflows.versions import code_version, legacy_code_version


def asset_name(conversation: Conversation) -> str:
    return f"{conversation.execution_order:02d}_{conversation.name}"


@dataclass(frozen=True)
class PlannedStep:
    index: int
    conversation: Conversation
    version: str  # cumulative: this conversation's code_version and every step before it in the plan

    @property
    def model(self) -> str | None:
        return self.conversation.model


def _rank(model: str | None, loaded: str | None, upcoming: set[str | None]) -> tuple[int, str]:
    """Python steps first (no model), then the model already loaded, then others, and last the one
    the next execution order starts with, so that it stays loaded across the boundary."""
    if model is None:
        return (0, "")
    if model == loaded:
        return (1, model)
    return (3 if model in upcoming else 2, model)


class WorkflowPlan:
    """A workflow's conversations in run order: execution order first, then grouped by model.

    Within one execution order, the model already in use goes first and each model's
    conversations stay together, so a run never swaps back and forth between two models.
    """

    def __init__(self, workflow: Workflow):
        self.workflow = workflow

    @cached_property
    def steps(self) -> list[PlannedStep]:
        by_order: dict[int, list[Conversation]] = {}
        for conv in self.workflow.ordered:
            by_order.setdefault(conv.execution_order, []).append(conv)
        orders = sorted(by_order)
        ordered: list[Conversation] = []
        last_model: str | None = None
        for position, order in enumerate(orders):
            group = by_order[order]
            upcoming = {c.model for c in by_order[orders[position + 1]]} if position + 1 < len(orders) else set()

            models = sorted({c.model for c in group}, key=lambda m: _rank(m, last_model, upcoming))
            for model in models:
                ordered.extend(c for c in group if c.model == model)
                last_model = model or last_model
        steps, digest = [], hashlib.sha256(str(self.workflow.workflow_id).encode())
        for index, conv in enumerate(ordered):
            digest.update(code_version(self.workflow, conv.name).encode())
            steps.append(PlannedStep(index, conv, digest.copy().hexdigest()[:16]))
        return steps

    def legacy_versions(self) -> dict[int, str]:
        """{conversation_id: the cumulative version schema 3 stamped} (versions.legacy_code_version), for
        re-stamping checkpoints of definitions that did not change."""
        digest, found = hashlib.sha256(str(self.workflow.workflow_id).encode()), {}
        for step in self.steps:
            digest.update(legacy_code_version(self.workflow, step.conversation.name).encode())
            found[step.conversation.conversation_id] = digest.copy().hexdigest()[:16]
        return found

    @cached_property
    def by_name(self) -> dict[str, PlannedStep]:
        return {s.conversation.name: s for s in self.steps}

    @cached_property
    def by_id(self) -> dict[int, PlannedStep]:
        return {s.conversation.conversation_id: s for s in self.steps}

    @cached_property
    def groups(self) -> list[list[PlannedStep]]:
        """The steps by execution order, each group in plan order. Siblings (one group) are independent:
        routing only goes to a higher execution order, so a posting visits at most one of them."""
        found: dict[int, list[PlannedStep]] = {}
        for s in self.steps:
            found.setdefault(s.conversation.execution_order, []).append(s)
        return list(found.values())

    def step(self, name: str) -> PlannedStep:
        return self.by_name[name]

    def next_model(self, step: PlannedStep) -> str | None:
        """The model of the first LLM step after this one, None when no LLM step follows."""
        return next((s.model for s in self.steps[step.index + 1 :] if s.model), None)


def _model_key(model: str) -> str:
    # Ollama's spelling for comparison ("Gemma2" == "gemma2:latest"); ollama/ is a layer above this one
    model = model.strip().lower()
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


def resident_first(steps: list[PlannedStep], resident: set[str] | list[str]) -> list[PlannedStep]:
    """The steps with, inside each execution order, those whose model a host holds right now moved
    ahead of those that need a load (Python steps stay first; each group keeps the plan's order).

    `resident`: model names as `/api/ps` gives them (`HostPool.resident_models()`).
    """
    held = {_model_key(m) for m in resident}

    def rank(step: PlannedStep) -> tuple[int, int]:
        if step.model is None:
            return (step.conversation.execution_order, 0)
        return (step.conversation.execution_order, 1 if _model_key(step.model) in held else 2)

    return sorted(steps, key=rank)  # stable: the plan's order within each rank
