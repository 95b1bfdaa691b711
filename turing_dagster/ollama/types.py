"""What a step sends to a ModelSession and gets back: requests, results, per-session numbers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import ollama

from turing_dagster.ollama.context import Estimate
from turing_dagster.ollama.records import CallRecorder

T = TypeVar("T")


class Hosts(Protocol):
    """What a ModelSession needs from the pool that made it (pool.HostPool)."""

    log: logging.Logger
    recorder: CallRecorder

    @property
    def keep_alive(self) -> str: ...

    @property
    def slots_per_host(self) -> int: ...

    @property
    def residency(self) -> str: ...

    def hosts_for(self, model: str) -> list[str]: ...

    def client(self, host: str) -> ollama.Client: ...

    def control_client(self, host: str) -> ollama.Client: ...

    def load_client(self, host: str) -> ollama.Client: ...

    def slot(self, host: str) -> contextlib.AbstractContextManager[None]: ...

    def call_with_retries(self, fn: Callable[[], T], **kwargs: Any) -> T: ...

    def ps_models(self, host: str) -> list[Any]: ...

    def resident_models(self, host: str | None = None) -> list[str]: ...


@dataclass
class LLMRequest:
    """One chat request: the messages so far, answered once (transient errors retried, never re-asked here)."""

    key: str  # whose request it is (a posting id): call records and logs name it
    messages: list[dict]  # chat messages (system + user, and earlier turns)
    format: str | dict | None = None  # "json" or a JSON schema (Ollama structured output)
    request_key: str | None = None  # ollama/keys.py: what the answer is stored under
    num_ctx: int | None = None  # the context it runs with (sent as options.num_ctx)
    estimate: Estimate | None = None  # its size, to judge the server's prompt_eval_count against
    attempts: int | None = None  # most HTTP calls on transient errors (a conversation's retries + 1); None: the pool's


@dataclass
class LLMResult:
    key: str
    output: str | None  # None when error is set
    error: str | None
    attempts: int  # every HTTP call made for this request
    latency_seconds: float
    tokens_in: int
    tokens_out: int
    # the server was away (transient errors to the end, or the model could not be loaded): the
    # failure says nothing about the posting, so a later run retries it without being asked
    unavailable: bool = False
    request_key: str | None = None
    cut: bool = False  # the server's prompt_eval_count shows it did not see the whole prompt
    refused: bool = False  # the last attempt found no server listening: the host is down, not busy

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SessionStats:
    loads: int = 0  # loads this session made, summed over its hosts (0 or 1 per host)
    load_seconds: float = 0.0
    requests: int = 0
    failures: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0  # first request -> last result (includes the load when run() did it)
    attempts: int = 0  # HTTP calls for requests, retries and re-asks included
    unloads: int = 0  # models this session unloaded (others before its load, itself in finish)
    host_requests: dict[str, int] = field(default_factory=dict)  # results per host that produced them
    host_loads: dict[str, int] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        """Flat numbers for Dagster materialization metadata."""
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 4) if lat else 0.0

        return {
            "loads": self.loads,
            "load_seconds": round(self.load_seconds, 4),
            "requests": self.requests,
            "failures": self.failures,
            "attempts": self.attempts,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_p50_seconds": pct(0.5),
            "latency_p95_seconds": pct(0.95),
            "wall_seconds": round(self.wall_seconds, 4),
            "unloads": self.unloads,
            "hosts": len(self.host_requests) or len(self.host_loads),
        }
