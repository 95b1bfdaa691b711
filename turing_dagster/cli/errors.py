"""The exceptions that are a user's to fix, and their exit codes."""

from __future__ import annotations

import sqlalchemy as sa

from turing_dagster.ollama.errors import OllamaError
from turing_dagster.settings import DagsterHomeError, SettingsError
from turing_dagster.steps.results import StepError
from turing_dagster.store.engine import StoreError
from turing_dagster.store.postings import PostingsFileError
from turing_dagster.workflows.loader import WorkflowValidationError


class UnknownWorkflowError(Exception):
    """WORKFLOW names no workflow definition."""


class HistoryOnlyError(UnknownWorkflowError):
    """WORKFLOW is in the database alone (its file gone, or retired): its history reads, it does not run."""


class WorkflowStateError(Exception):
    """A lifecycle step the workflow's files or database refuse (retiring one a file still defines)."""


# OperationalError: the database went away or refused us mid-command; its first line says why
USER_ERRORS = (
    StoreError,
    PostingsFileError,
    WorkflowValidationError,
    OllamaError,
    StepError,
    UnknownWorkflowError,
    WorkflowStateError,
    DagsterHomeError,
    SettingsError,  # HostConfigError among them
    sa.exc.OperationalError,
)


def exit_code_for(exc: Exception) -> int:
    # 2 for definitions, settings and input files (as `turing validate`), 1 for runtime trouble
    definitions = (WorkflowValidationError, PostingsFileError, UnknownWorkflowError, WorkflowStateError, SettingsError)
    return 2 if isinstance(exc, definitions) else 1
