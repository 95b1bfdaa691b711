"""Chat messages for one posting, rendered from checkpointed outputs only."""

from __future__ import annotations

from typing import Any

from turing_dagster.workflows.placeholders import render
from turing_dagster.workflows.plan import PlannedStep
from turing_dagster.workflows.spec import Conversation


def build_messages(step: PlannedStep, posting: dict[str, Any], outputs: dict[str, str | None]) -> list[dict]:
    """Chat messages from checkpointed outputs; raises UnresolvedPlaceholder rather than send a hole."""
    conv = step.conversation
    return [*system_messages(conv, posting, outputs), turn_message(conv, 0, posting, outputs, [])]


def system_messages(conv: Conversation, posting: dict[str, Any], outputs: dict[str, str | None]) -> list[dict]:
    """The system message a chat starts with, if the conversation has one."""
    return [{"role": "system", "content": render(conv.system, posting, outputs)}] if conv.system else []


def turn_message(
    conv: Conversation, index: int, posting: dict[str, Any], outputs: dict[str, str | None], answers: list[str]
) -> dict:
    """The user message of turn `index` (0-based); `{turnN}` in it is the answer to turn N of this chat."""
    values = {**outputs, **{f"turn{n}": answer for n, answer in enumerate(answers, 1)}} if answers else outputs
    return {"role": "user", "content": render(conv.turns[index].prompt, posting, values)}
