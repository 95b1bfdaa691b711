"""How Turing talks to Ollama, below the session: error classes, transient-error retry, model names."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import ollama
import tenacity

T = TypeVar("T")

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
TRANSIENT_ERRORS = (
    httpx.TimeoutException,  # includes a request that hangs past request_timeout_seconds
    httpx.NetworkError,  # ConnectError, ReadError, WriteError, CloseError
    httpx.RemoteProtocolError,  # the server dropped the connection mid-response
    ConnectionError,  # the ollama client turns httpx.ConnectError into this
    json.JSONDecodeError,  # a truncated body
)


def normalize_model(name: str) -> str:
    """Ollama's name for a model, to compare names: "Gemma2" -> "gemma2:latest" (tag defaults to latest)."""
    name = name.strip().lower()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (ConnectionError, httpx.ConnectError))


def means_server_away(exc: BaseException) -> bool:
    """The server misbehaved, not the request: no connection, no answer in time, overload, a 5xx, a
    broken body. Such a failure says nothing about the posting, so a later plain run retries it.

    Only a 4xx other than 429 (404 is a missing model, failing the step) is about the request itself.
    """
    if isinstance(exc, ollama.ResponseError):
        return exc.status_code == -1 or exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, TRANSIENT_ERRORS)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: overload (429, 5xx), connection trouble, timeouts, an error mid-stream."""
    if isinstance(exc, ollama.ResponseError):
        return exc.status_code in TRANSIENT_STATUS or exc.status_code == -1  # -1: reported mid-stream
    return isinstance(exc, TRANSIENT_ERRORS)


def describe(exc: BaseException) -> str:
    """One line for logs and LLMResult.error."""
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == -1:
            text = f"error mid-stream: {exc.error}"
        else:
            text = f"HTTP {exc.status_code}: {exc.error}"
    elif is_connection_error(exc):
        text = "connection refused or reset"
    elif isinstance(exc, httpx.TimeoutException):
        text = f"timed out ({type(exc).__name__})"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(str(text).split())
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class Tally:
    """HTTP calls made for one request: in all, and in the latest retry sequence."""

    attempts: int = 0
    run_attempts: int = 0


def call_with_retries(
    fn: Callable[[], T],
    *,
    max_attempts: int,
    backoff_initial: float,
    backoff_max: float,
    tally: Tally | None = None,
    stop: threading.Event | None = None,
    retry_refused: bool = True,
) -> T:
    """fn(), retrying transient errors with exponential backoff and jitter; re-raises the last error.

    `stop` ends the retries early (and wakes a backoff sleep) when the caller goes away.
    `retry_refused=False` fails at once on a refused connection (a host that is down, not busy).
    """
    tally = tally if tally is not None else Tally()
    tally.run_attempts = 0
    stop = stop if stop is not None else threading.Event()

    def retryable(exc: BaseException) -> bool:
        return is_transient(exc) and (retry_refused or not is_connection_error(exc))

    def attempt() -> T:
        tally.attempts += 1
        tally.run_attempts += 1
        return fn()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, max_attempts)) | tenacity.stop_when_event_set(stop),
        wait=tenacity.wait_exponential(multiplier=backoff_initial, max=backoff_max)
        + tenacity.wait_random(0, backoff_initial),  # jitter
        retry=tenacity.retry_if_exception(retryable),
        sleep=stop.wait,
        reraise=True,
    )
    return retrying(attempt)


def process_models(response: Any) -> list[Any]:
    """The models listed by /api/ps or /api/tags (None-safe)."""
    return list(getattr(response, "models", None) or [])


def model_name(entry: Any) -> str:
    """The normalised name of a /api/ps or /api/tags entry."""
    return normalize_model(getattr(entry, "model", None) or getattr(entry, "name", None) or "")
