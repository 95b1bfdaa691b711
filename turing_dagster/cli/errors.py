"""The exceptions that are a user's to fix, and their exit codes."""

from __future__ import annotations

from turing_dagster.ollama_session import OllamaError
from turing_dagster.step import StepError
from turing_dagster.store.engine import StoreError
from turing_dagster.store.postings import PostingsFileError
from turing_dagster.workflow_loader import WorkflowValidationError


class UnknownWorkflowError(Exception):
    """WORKFLOW names no workflow definition."""


USER_ERRORS = (StoreError, PostingsFileError, WorkflowValidationError, OllamaError, StepError, UnknownWorkflowError)


def exit_code_for(exc: Exception) -> int:
    # 2 for definitions and input files (as `turing validate`), 1 for runtime trouble
    return 2 if isinstance(exc, (WorkflowValidationError, PostingsFileError, UnknownWorkflowError)) else 1
