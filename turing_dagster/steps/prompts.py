"""Chat messages for one posting, rendered from checkpointed outputs only."""

from __future__ import annotations

from typing import Any

from turing_dagster.workflows.placeholders import render
from turing_dagster.workflows.plan import PlannedStep


def build_messages(step: PlannedStep, posting: dict[str, Any], outputs: dict[str, str | None]) -> list[dict]:
    """Chat messages from checkpointed outputs; raises UnresolvedPlaceholder rather than send a hole."""
    conv = step.conversation
    messages = []
    if conv.system:
        messages.append({"role": "system", "content": render(conv.system, posting, outputs)})
    messages.append({"role": "user", "content": render(conv.prompt or "", posting, outputs)})
    return messages
