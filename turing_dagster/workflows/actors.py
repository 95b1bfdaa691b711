"""Whether a workflow's `python:module:function` actors can be called: imported, as a run would import them.

Building the Dagster definitions never imports them (it reads the files and nothing more); `turing validate`
and `turing run` do, so a misspelled actor is one line naming its file and conversation before any wave is
admitted, not a failed step.
"""

from __future__ import annotations

import importlib
from typing import Any

from turing_dagster.workflows.loader import WorkflowError
from turing_dagster.workflows.spec import Conversation, Workflow


def import_actor(conv: Conversation) -> Any:
    """What a `python:module:function` actor names (ImportError, AttributeError and the module's own errors)."""
    module_name, function_name = conv.python_target
    return getattr(importlib.import_module(module_name), function_name)


def actor_errors(workflow: Workflow) -> list[WorkflowError]:
    """One error per Python actor that cannot be imported or is not callable."""
    errors = []
    for conv in workflow.ordered:
        if not conv.is_python:
            continue
        module_name, function_name = conv.python_target
        try:
            target = import_actor(conv)
        except Exception as exc:  # noqa: BLE001 - an actor module's own import error is the user's to see
            why = f"cannot import {module_name}:{function_name} ({type(exc).__name__}: {exc})"
        else:
            if callable(target):
                continue
            why = f"{module_name}:{function_name} is a {type(target).__name__}, not a function"
        errors.append(WorkflowError(workflow.source_file or workflow.name, conv.name, "actor", why))
    return errors
