"""The order a wave goes through a workflow, and which checkpoints are still current."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from turing_dagster.workflow_spec import Conversation, Workflow


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


class WorkflowPlan:
    """A workflow's conversations in run order: execution order first, then grouped by model.

    Within one execution order, the model already in use goes first and each model's
    conversations stay together, so a run never swaps back and forth between two models.
    """

    def __init__(self, workflow: Workflow):
        self.workflow = workflow

    @cached_property
    def steps(self) -> list[PlannedStep]:
        ordered: list[Conversation] = []
        by_order: dict[int, list[Conversation]] = {}
        for conv in self.workflow.ordered:
            by_order.setdefault(conv.execution_order, []).append(conv)
        last_model: str | None = None
        for order in sorted(by_order):
            group = by_order[order]
            models = sorted({c.model or "" for c in group}, key=lambda m: (m != (last_model or ""), m))
            for model in models:
                ordered.extend(c for c in group if (c.model or "") == model)
                last_model = model or last_model
        steps, digest = [], hashlib.sha256(str(self.workflow.workflow_id).encode())
        for index, conv in enumerate(ordered):
            digest.update(self.workflow.code_version(conv.name).encode())
            steps.append(PlannedStep(index, conv, digest.copy().hexdigest()[:16]))
        return steps

    @cached_property
    def by_name(self) -> dict[str, PlannedStep]:
        return {s.conversation.name: s for s in self.steps}

    @cached_property
    def by_id(self) -> dict[int, PlannedStep]:
        return {s.conversation.conversation_id: s for s in self.steps}

    @cached_property
    def by_asset_name(self) -> dict[str, PlannedStep]:
        return {asset_name(s.conversation): s for s in self.steps}

    def step(self, name: str) -> PlannedStep:
        return self.by_name[name]

    def previous(self, name: str) -> PlannedStep | None:
        index = self.by_name[name].index
        return self.steps[index - 1] if index else None
