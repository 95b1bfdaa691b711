"""Code versions: what identifies a conversation's definition, so a result made under another one is stale.

A version covers what shapes the conversation's answer and where it sends a posting next, and nothing
else: conversations are named by id (a rename changes no version), routing targets by id, and retries,
`reuse` and `qa` are left out (they change neither the answer nor the route).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from turing_dagster.workflows.actor_source import actor_source_digest
from turing_dagster.workflows.placeholders import normalize
from turing_dagster.workflows.spec import Workflow

END = "END"


def _digest(material: dict[str, Any]) -> str:
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def code_version(workflow: Workflow, name: str) -> str:
    conv = workflow.conversation(name)
    ids = {c.name: c.conversation_id for c in workflow.conversations}

    def target(goto: str) -> int | str:
        return goto if goto == END else ids[goto]

    material: dict[str, Any] = {
        "actor": conv.actor,
        "system": normalize(conv.system, ids),
        "prompt": normalize(conv.prompt, ids),
        "options": workflow.options_for(name),
        "format": conv.format,
        "validate": conv.checks.model_dump(mode="json") if conv.checks else None,
        "save_to": conv.save_to,
        "overflow": conv.overflow,
    }
    if conv.instructions:
        material["instructions"] = [
            {**t.model_dump(mode="json", by_alias=True), "prompt": normalize(t.prompt, ids)} for t in conv.instructions
        ]
    if conv.next is not None:
        material["next"] = [
            {"when": r.when.model_dump(mode="json", by_alias=True) if r.when else None, "goto": target(r.goto)}
            for r in conv.next
        ]
    else:
        following = workflow.default_next(name)
        material["next_default"] = ids[following] if following else END
    if conv.python_target:
        # editing the actor's code reruns its step (and, through the plan, those after it)
        material["actor_source"] = actor_source_digest(conv.python_target[0])
    return _digest(material)


def legacy_code_version(workflow: Workflow, name: str) -> str:
    """The version schema 3 stamped on checkpoints (names and retries included): `turing init` re-stamps
    rows that carry it with code_version, so an upgrade leaves unchanged definitions current."""
    conv = workflow.conversation(name)
    material: dict[str, Any] = {
        "actor": conv.actor,
        "system": conv.system,
        "prompt": conv.prompt,
        "options": workflow.options_for(name),
        "format": conv.format,
        "validate": conv.checks.model_dump(mode="json") if conv.checks else None,
        "next": [r.model_dump(mode="json", by_alias=True) for r in conv.next] if conv.next is not None else None,
        "routes_to": [(s, workflow.conversation(s).conversation_id) for s in workflow.successors(name)],
        "conversation_id": conv.conversation_id,
        "save_to": conv.save_to,
        "retries": workflow.retries_for(name),
    }
    if conv.instructions:
        material["instructions"] = [t.model_dump(mode="json", by_alias=True) for t in conv.instructions]
    if conv.python_target:
        material["actor_source"] = actor_source_digest(conv.python_target[0])
    return _digest(material)
