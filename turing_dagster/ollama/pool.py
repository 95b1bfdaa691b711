"""A plain pool of Ollama hosts: clients with deadlines, one in-flight limit per host, retries, `/api/ps`.

The Dagster resource (`dagster_defs/resources.py`) is a configurable wrapper that builds one of these; step
code asks the pool for a `ModelSession` per step and model. Nothing here touches the network until a
method that needs it is called.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
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
from turing_dagster.ollama.errors import OllamaError, OllamaUnavailableError, how_to_get_ollama, unreachable
from turing_dagster.ollama.records import CallRecorder
from turing_dagster.ollama.session import ModelSession

T = TypeVar("T")
RELEASE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class PoolConfig:
    """How the pool talks to its hosts; the resource's fields, without Dagster."""

    host: str | None = None  # one host or a comma list; None: TURING_OLLAMA_HOSTS, else OLLAMA_HOST
    hosts: tuple[str, ...] | None = None  # a list instead of `host`
    residency: str = "shared"  # "shared": the server keeps what fits; "exclusive": one model per host
    keep_alive: str = "5m"
    request_timeout_seconds: float = 600.0  # one chat call
    connect_timeout_seconds: float = 5.0
    control_timeout_seconds: float = 30.0  # /api/show, /api/ps, /api/tags, unload
    load_timeout_seconds: float = 300.0  # a model load (reading weights from disk)
    slots_per_host: int = 4
    max_attempts: int = 4
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 10.0


class HostPool:
    """Clients, slots and retry policy for the configured hosts, and the sessions made from them."""

    def __init__(self, config: PoolConfig, log: logging.Logger | None = None, recorder: CallRecorder | None = None):
        if config.residency not in ("shared", "exclusive"):
            raise OllamaError(f"residency must be 'shared' or 'exclusive', not {config.residency!r}")
        self.config = config
        self.log = log or logging.getLogger("turing.ollama")
        self.recorder = recorder or CallRecorder()  # pools of one resource share one: the run's timeline
        self._clients: dict[tuple[str, str], ollama.Client] = {}
        self._slots: dict[str, queue.SimpleQueue] = {}  # a host's free slots, one token each
        self._guard = threading.Lock()
        self._sessions: list[ModelSession] = []
        self._digests: dict[str, dict[str, str | None]] = {}

    @property
    def keep_alive(self) -> str:
        return self.config.keep_alive

    @property
    def slots_per_host(self) -> int:
        return max(1, self.config.slots_per_host)

    @property
    def residency(self) -> str:
        return self.config.residency

    def session(self, model: str, options: dict | None = None) -> ModelSession:
        """A session for one model; nothing is contacted until it is used."""
        session = ModelSession(self, model, options)
        with self._guard:
            self._sessions.append(session)
        return session

    def release(self) -> None:
        """The run is over. Shared: leave models to their keep_alive (the next run may use them).
        Exclusive: unload what this pool's sessions loaded and is still resident.

        Best effort, one quick try per host: a server that is gone has nothing loaded to free.
        """
        with self._guard:
            sessions, self._sessions = list(self._sessions), []
        if self.residency != "exclusive":
            return
        # only sessions that still hold their model: the others were swapped or finished
        held = [(h, s.model) for s in sessions if s.loaded for h in s.loaded_hosts()]
        for host in dict.fromkeys(h for h, _ in held):
            client = ollama.Client(host=host, timeout=RELEASE_TIMEOUT_SECONDS)
            try:
                resident = {model_name(m) for m in process_models(client.ps())}
                for h, model in held:
                    if h == host and normalize_model(model) in resident:
                        resident.discard(normalize_model(model))
                        client.generate(model=model, prompt="", keep_alive=0)
                        self.log.info(f"unloaded model {model} on {host} at the end of the run")
            except Exception as exc:
                self.log.warning(f"could not release models on {host}: {describe(exc)}")
            finally:
                client.close()

    def hosts(self) -> list[str]:
        """The configured hosts (settings.ollama_hosts); HostConfigError names a malformed entry."""
        return settings.ollama_hosts(list(self.config.hosts) if self.config.hosts else self.config.host)

    def hosts_for(self, model: str) -> list[str]:
        """Every host whose /api/tags lists the model; hosts that do not answer are left out with a
        warning. None lists it: the first that answers (its /api/show then names what is missing).
        One configured host: that host, without a network call."""
        hosts = self.hosts()
        if len(hosts) == 1:
            return hosts
        wanted = normalize_model(model)

        def listed(h: str) -> set[str]:
            # two tries, not max_attempts: a hung host costs two control deadlines per step, not minutes
            tags = self.call_with_retries(lambda: self.control_client(h).list(), retry_refused=False, max_attempts=2)
            return {model_name(m) for m in process_models(tags)}

        up: list[str] = []
        serving: list[str] = []
        down: list[str] = []
        with ThreadPoolExecutor(max_workers=len(hosts), thread_name_prefix="ollama-tags") as probe:
            futures = [(h, probe.submit(listed, h)) for h in hosts]
        for h, fut in futures:
            try:
                names = fut.result()
            except Exception as exc:
                down.append(f"{h} ({describe(exc)})")
                continue
            up.append(h)
            if wanted in names:
                serving.append(h)
        if not up:
            raise OllamaUnavailableError(f"no Ollama host answers: {'; '.join(down)}; {how_to_get_ollama(hosts[0])}")
        if down:
            self.log.warning(f"Ollama host(s) left out, not answering: {'; '.join(down)}")
        return serving or up[:1]

    def digests(self, host: str) -> dict[str, str | None]:
        """{model: digest} as the host's /api/tags lists them, asked once per pool (a run): every step's
        request keys need them, and a model pulled again mid-run counts from the next run on."""
        host = settings.normalize_host(host)
        with self._guard:
            known = self._digests.get(host)
        if known is None:
            try:
                tags = self.call_with_retries(lambda: self.control_client(host).list(), retry_refused=False)
            except Exception as exc:
                if is_connection_error(exc):
                    raise unreachable(host, describe(exc)) from None
                raise OllamaError(f"list models on {host} failed: {describe(exc)}") from None
            known = {model_name(m): getattr(m, "digest", None) for m in process_models(tags)}
            with self._guard:
                self._digests[host] = known
        return known

    def resident_models(self, host: str | None = None) -> list[str]:
        """Models resident per /api/ps, normalised ("x" -> "x:latest"). host None: every host, those
        not answering skipped when there are several."""
        hosts = [settings.normalize_host(host)] if host else self.hosts()
        names: list[str] = []
        for h in hosts:
            try:
                found = [model_name(m) for m in self.ps_models(h)]
            except OllamaError as exc:
                if len(hosts) == 1:
                    raise
                self.log.warning(f"resident models: {exc}")
                continue
            names += [n for n in found if n not in names]
        return names

    def _client(self, host: str, kind: str, read: float) -> ollama.Client:
        host = settings.normalize_host(host)
        with self._guard:
            if (host, kind) not in self._clients:
                timeout = httpx.Timeout(read, connect=min(read, self.config.connect_timeout_seconds))
                self._clients[host, kind] = ollama.Client(host=host, timeout=timeout)
            return self._clients[host, kind]

    def client(self, host: str) -> ollama.Client:
        """The host's client for chats: read deadline request_timeout_seconds per call."""
        return self._client(host, "chat", self.config.request_timeout_seconds)

    def control_client(self, host: str) -> ollama.Client:
        """The host's client for /api/show, /api/ps, /api/tags and unloads: a short deadline."""
        return self._client(host, "control", self.config.control_timeout_seconds)

    def load_client(self, host: str) -> ollama.Client:
        """The host's client for model loads: a deadline long enough to read weights from disk."""
        return self._client(host, "load", self.config.load_timeout_seconds)

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's `slots_per_host` in-flight slots for one HTTP call."""
        host = settings.normalize_host(host)
        with self._guard:
            if host not in self._slots:
                self._slots[host] = free = queue.SimpleQueue()
                for _ in range(self.slots_per_host):
                    free.put(None)
            free = self._slots[host]
        # tokens in a C queue, not a threading.Semaphore: its Python-level Condition cost every call a
        # notify under the GIL that the dispatch threads and the conversations thread share
        free.get()
        try:
            yield
        finally:
            free.put(None)

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
            return process_models(
                self.call_with_retries(lambda: self.control_client(host).ps(), retry_refused=False)
            )
        except Exception as exc:
            if is_connection_error(exc):
                raise unreachable(host, describe(exc)) from None
            raise OllamaError(f"/api/ps on {host} failed: {describe(exc)}") from None

    def close(self) -> None:
        with self._guard:
            clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()
