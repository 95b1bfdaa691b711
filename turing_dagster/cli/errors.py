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


# OperationalError: the database went away or refused us mid-command; its first line says why
USER_ERRORS = (
    StoreError,
    PostingsFileError,
    WorkflowValidationError,
    OllamaError,
    StepError,
    UnknownWorkflowError,
    DagsterHomeError,
    SettingsError,  # HostConfigError among them
    sa.exc.OperationalError,
)


def exit_code_for(exc: Exception) -> int:
    # 2 for definitions, settings and input files (as `turing validate`), 1 for runtime trouble
    return 2 if isinstance(exc, (WorkflowValidationError, PostingsFileError, UnknownWorkflowError, SettingsError)) else 1
