"""A plain pool of Ollama hosts: one client and one in-flight limit per host, retries, `/api/ps`.

The Dagster resource (`dagster_defs/resources.py`) is a configurable wrapper that builds one of these; step
code asks the pool for a `ModelSession` per step and model. Nothing here touches the network until a
method that needs it is called.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import ollama

from turing_dagster import settings
from turing_dagster.ollama.calls import (
    Tally,
    describe,
    is_connection_error,
    model_name,
    normalize_model,
    process_models,
)
from turing_dagster.ollama.calls import call_with_retries as _call_with_retries
from turing_dagster.ollama.errors import OllamaError, OllamaUnavailableError
from turing_dagster.ollama.session import ModelSession

T = TypeVar("T")
RELEASE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class PoolConfig:
    """How the pool talks to its hosts; the resource's fields, without Dagster."""

    host: str | None = None  # comma list; None: OLLAMA_HOST
    request_timeout_seconds: float = 600.0
    slots_per_host: int = 4
    keep_alive: str = "30m"
    max_attempts: int = 4
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 10.0


class HostPool:
    """Clients, slots and retry policy for the configured hosts, and the sessions made from them."""

    def __init__(self, config: PoolConfig, log: logging.Logger | None = None):
        self.config = config
        self.log = log or logging.getLogger("turing.ollama")
        self._clients: dict[str, ollama.Client] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._guard = threading.Lock()
        self._sessions: list[ModelSession] = []

    @property
    def keep_alive(self) -> str:
        return self.config.keep_alive

    @property
    def slots_per_host(self) -> int:
        return max(1, self.config.slots_per_host)

    def session(self, model: str, options: dict | None = None) -> ModelSession:
        """A session for one model; nothing is contacted until it is used."""
        session = ModelSession(self, model, options)
        with self._guard:
            self._sessions.append(session)
        return session

    def release(self) -> None:
        """Unload what this pool's sessions loaded and is still resident (the run is over).

        Best effort, one quick try per host: a server that is gone has nothing loaded to free.
        """
        with self._guard:
            sessions, self._sessions = list(self._sessions), []
        # only sessions that still think they hold their model: the others were swapped or finished
        loaded = [s for s in sessions if s.stats.loads and s.loaded]
        for host in {s.host for s in loaded}:
            client = ollama.Client(host=host, timeout=RELEASE_TIMEOUT_SECONDS)
            try:
                resident = {model_name(m) for m in process_models(client.ps())}
                for s in loaded:
                    if s.host == host and normalize_model(s.model) in resident:
                        resident.discard(normalize_model(s.model))
                        client.generate(model=s.model, prompt="", keep_alive=0)
                        self.log.info(f"unloaded model {s.model} on {host} at the end of the run")
            except Exception as exc:
                self.log.warning(f"could not release models on {host}: {describe(exc)}")
            finally:
                client.close()

    def hosts(self) -> list[str]:
        return settings.ollama_hosts(self.config.host)

    def resident_models(self, host: str | None = None) -> list[str]:
        """Models resident per /api/ps, normalised ("x" -> "x:latest"); host None: every host."""
        hosts = [settings.normalize_host(host)] if host else self.hosts()
        names: list[str] = []
        for h in hosts:
            names += [n for n in (model_name(m) for m in self.ps_models(h)) if n not in names]
        return names

    def host_for(self, model: str) -> str:
        """With several hosts: one that has the model resident, else the first that lists it, else the first."""
        hosts = self.hosts()
        if len(hosts) == 1:
            return hosts[0]
        wanted = normalize_model(model)
        for probe in (lambda h: self.client(h).ps(), lambda h: self.client(h).list()):
            for h in hosts:
                try:
                    if wanted in {model_name(m) for m in process_models(probe(h))}:
                        return h
                except Exception as exc:  # an unreachable host is simply not chosen
                    self.log.debug(f"host_for({model}): {h} skipped: {describe(exc)}")
        return hosts[0]

    def client(self, host: str) -> ollama.Client:
        """The one client for this host (thread-safe; created on first use)."""
        host = settings.normalize_host(host)
        with self._guard:
            if host not in self._clients:
                self._clients[host] = ollama.Client(host=host, timeout=self.config.request_timeout_seconds)
            return self._clients[host]

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's `slots_per_host` in-flight slots for one HTTP call."""
        host = settings.normalize_host(host)
        with self._guard:
            if host not in self._slots:
                self._slots[host] = threading.BoundedSemaphore(self.slots_per_host)
            sem = self._slots[host]
        with sem:
            yield

    def call_with_retries(
        self,
        fn: Callable[[], T],
        *,
        tally: Tally | None = None,
        stop: threading.Event | None = None,
        max_attempts: int | None = None,
        retry_refused: bool = True,
    ) -> T:
        """fn() with the pool's retry policy (tenacity: exponential backoff with jitter)."""
        return _call_with_retries(
            fn,
            max_attempts=max_attempts or self.config.max_attempts,
            backoff_initial=self.config.backoff_initial_seconds,
            backoff_max=self.config.backoff_max_seconds,
            tally=tally,
            stop=stop,
            retry_refused=retry_refused,
        )

    def ps_models(self, host: str) -> list[Any]:
        """/api/ps entries of one host; OllamaUnavailableError when it refuses connections."""
        try:
            return process_models(self.call_with_retries(lambda: self.client(host).ps(), retry_refused=False))
        except Exception as exc:
            if is_connection_error(exc):
                raise OllamaUnavailableError(f"Ollama is not reachable at {host}: {describe(exc)}") from None
            raise OllamaError(f"/api/ps on {host} failed: {describe(exc)}") from None

    def close(self) -> None:
        with self._guard:
            clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()
