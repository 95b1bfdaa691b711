"""Ollama failures that fail a whole step; each message is one line for the user."""

from __future__ import annotations


class OllamaError(Exception):
    """An Ollama failure that fails the whole step; the message is one line."""


class ModelNotFoundError(OllamaError):
    """The host does not have the model (HTTP 404); never retried."""


class OllamaUnavailableError(OllamaError):
    """The host refuses connections."""
