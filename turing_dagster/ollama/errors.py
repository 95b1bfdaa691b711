"""Ollama failures that fail a whole step; each message is one line for the user."""

from __future__ import annotations

from urllib.parse import urlsplit

from turing_dagster.settings import host_setting

_LOCAL = {"127.0.0.1", "localhost", "::1"}


class OllamaError(Exception):
    """An Ollama failure that fails the whole step; the message is one line."""


class ModelNotFoundError(OllamaError):
    """The host does not have the model (HTTP 404); never retried."""


class OllamaUnavailableError(OllamaError):
    """The host refuses connections."""


class NotAnOllamaServerError(OllamaError):
    """The URL answers, but not as Ollama does: 404 on /api/show and on /api/tags (a wrong path)."""

    def __init__(self, host: str, status: int, asked: str = "/api/show and /api/tags") -> None:
        super().__init__(
            f"{host} does not answer as an Ollama server (HTTP {status} on {asked}): "
            "OLLAMA_HOST or TURING_OLLAMA_HOSTS may carry a wrong path (the client keeps it before /api/)"
        )


def unreachable(host: str, why: str) -> OllamaUnavailableError:
    """`host` refuses connections: the error says why and how to get an Ollama (how_to_get_ollama)."""
    return OllamaUnavailableError(f"Ollama is not reachable at {host}: {why}; {how_to_get_ollama(host)}")


def how_to_get_ollama(host: str) -> str:
    """What to do when no Ollama answers at `host` (a normalised URL); one clause, for the error lines
    of `turing run` and the note of `turing validate`."""
    split = urlsplit(host)
    port = split.port or 11434
    local = (split.hostname or "") in _LOCAL and not split.path.strip("/")
    var = host_setting(host)  # a workflow's own host list wins over OLLAMA_HOST: name the one that set it
    # the stand-in listens on 127.0.0.1: a remote or path-carrying host has to be pointed at it
    point = "" if local else f" and set {var}=http://127.0.0.1:{port}"
    return (
        f"point {var} at an Ollama server, or for tests and demos start the bundled stand-in with "
        f"`turing simulate-ollama --port {port}`{point} (`make demo` starts it by itself)"
    )
