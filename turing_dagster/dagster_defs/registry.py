"""Workflow plans by workflow name, for code that only sees an asset key (the IO manager)."""

from __future__ import annotations

import threading

from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow

_plans: dict[str, WorkflowPlan] = {}
_lock = threading.Lock()


def register(workflow: Workflow) -> WorkflowPlan:
    plan = WorkflowPlan(workflow)
    with _lock:
        _plans[workflow.name] = plan
    return plan


def plan_for(workflow_name: str) -> WorkflowPlan:
    with _lock:
        plan = _plans.get(workflow_name)
    if plan is None:
        # a process that did not build the definitions (e.g. a bare IO manager in a test)
        from turing_dagster.workflows.loader import load_workflows_sparing

        for workflow in load_workflows_sparing()[0]:
            register(workflow)
        with _lock:
            plan = _plans.get(workflow_name)
    if plan is None:
        raise KeyError(f"no workflow named {workflow_name!r} in the workflow definitions")
    return plan
