"""What several commands share: the engine with its schema checked, and WORKFLOW lookup."""

from __future__ import annotations

import sqlalchemy as sa

from turing_dagster.cli.errors import UnknownWorkflowError
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import require_schema
from turing_dagster.workflows.broken import warn_broken
from turing_dagster.workflows.loader import WorkflowValidationError, load_workflows_sparing
from turing_dagster.workflows.spec import Workflow


def ready_engine() -> sa.Engine:
    engine = get_engine()
    require_schema(engine)
    return engine


def find_workflow(name_or_id: str) -> Workflow:
    """WORKFLOW is a workflow's name or its workflow_id; a broken file beside it is one warning line."""
    workflows, errors = load_workflows_sparing()
    for workflow in workflows:
        if name_or_id in (workflow.name, str(workflow.workflow_id)):
            warn_broken(errors)
            return workflow
    if errors:  # perhaps WORKFLOW is the broken one: say what is wrong rather than 'no workflow'
        raise WorkflowValidationError(errors)
    known = ", ".join(f"{w.name} ({w.workflow_id})" for w in workflows) or "none"
    raise UnknownWorkflowError(f"no workflow {name_or_id!r}; known: {known}")
