"""The `OllamaModels` Dagster resource: Turing's model manager.

Step code asks it for a `ModelSession` per step and model (ollama_session.py). The resource holds the
configuration, one lazily created `ollama.Client` per host, and a per-host in-flight limit; it never
touches the network when constructed (Dagster builds resources more than once per run).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import dagster
import ollama
from pydantic import Field, PrivateAttr

from turing_dagster import settings
from turing_dagster.ollama_calls import (
    Tally,
    describe,
    is_connection_error,
    model_name,
    normalize_model,
    process_models,
)
from turing_dagster.ollama_calls import call_with_retries as _call_with_retries
from turing_dagster.ollama_session import ModelSession, OllamaError, OllamaUnavailableError

T = TypeVar("T")
RELEASE_TIMEOUT_SECONDS = 10.0


class OllamaModels(dagster.ConfigurableResource):
    """Ollama models for Turing steps: one load per step and model, measured apart from inference.

    `session(model, options)` gives a `ModelSession`: it checks the model exists, unloads any other
    model resident on the host, preloads its own model, runs the wave's chats with at most
    `slots_per_host` in flight (transient errors retried with backoff, invalid answers re-asked),
    and on `finish(next_model)` keeps the model for a next step that uses it or unloads it.
    Which models are resident is always read from the server (`/api/ps`).
    """

    host: str | None = Field(
        default=None,
        description="Ollama server(s); a comma list routes models across hosts. None: OLLAMA_HOST.",
    )
    request_timeout_seconds: float = Field(
        default=600.0, description="HTTP timeout per call (the ollama client has none by default)."
    )
    slots_per_host: int = Field(default=4, description="Never more requests in flight per host.")
    keep_alive: str = Field(
        default="30m", description="Residency while a step runs; sessions unload explicitly when done."
    )
    max_attempts: int = Field(
        default=4, description="Attempts per call on transient errors (429/5xx, connection, timeout)."
    )
    backoff_initial_seconds: float = Field(default=0.5, description="First retry delay (doubles, plus jitter).")
    backoff_max_seconds: float = Field(default=10.0, description="Longest retry delay.")

    _clients: dict[str, ollama.Client] = PrivateAttr(default_factory=dict)
    _slots: dict[str, threading.BoundedSemaphore] = PrivateAttr(default_factory=dict)
    _guard: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _sessions: list[ModelSession] = PrivateAttr(default_factory=list)

    # -- the step API ---------------------------------------------------------------------------

    def session(self, model: str, options: dict | None = None) -> ModelSession:
        """A session for one model; nothing is contacted until it is used."""
        session = ModelSession(self, model, options)
        with self._guard:
            self._sessions.append(session)
        return session

    def release(self) -> None:
        """Unload what this resource's sessions loaded and is still resident (the run is over).

        Between steps a model stays loaded for the next step that needs it (the next session
        unloads it if not); at the end nothing needs it. Best effort: a server that is gone
        has nothing loaded to free.
        """
        with self._guard:
            sessions, self._sessions = list(self._sessions), []
        # only sessions that still think they hold their model: the others were swapped or finished
        loaded = [s for s in sessions if s.stats.loads and s.loaded]
        for host in {s.host for s in loaded}:
            # one quick try, no retries: a run that already failed must not wait on a dead server
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
        return settings.ollama_hosts(self.host)

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

    # -- plumbing used by ModelSession ----------------------------------------------------------

    @property
    def log(self) -> Any:
        return dagster.get_dagster_logger("turing.ollama")

    def client(self, host: str) -> ollama.Client:
        """The one client for this host (thread-safe; created on first use)."""
        host = settings.normalize_host(host)
        with self._guard:
            if host not in self._clients:
                self._clients[host] = ollama.Client(host=host, timeout=self.request_timeout_seconds)
            return self._clients[host]

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's `slots_per_host` in-flight slots for one HTTP call."""
        host = settings.normalize_host(host)
        with self._guard:
            if host not in self._slots:
                self._slots[host] = threading.BoundedSemaphore(max(1, self.slots_per_host))
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
        """fn() with this resource's retry policy (tenacity: exponential backoff with jitter)."""
        return _call_with_retries(
            fn,
            max_attempts=max_attempts or self.max_attempts,
            backoff_initial=self.backoff_initial_seconds,
            backoff_max=self.backoff_max_seconds,
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

    def teardown_after_execution(self, context: dagster.InitResourceContext) -> None:
        self.release()
        self.close()
