"""Dagster resources: the store (its URL an EnvVar: it holds a password) and the Ollama model manager."""

from __future__ import annotations

import threading
from typing import Literal

import dagster as dg
import sqlalchemy as sa
from pydantic import Field, PrivateAttr

from turing_dagster.ollama.pool import HostPool, PoolConfig
from turing_dagster.ollama.records import CallRecord
from turing_dagster.ollama.session import ModelSession
from turing_dagster.store import claims
from turing_dagster.store.engine import get_engine
from turing_dagster.store.retry import with_reconnect


class TuringStore(dg.ConfigurableResource):
    """Turing's own tables (postings, waves, checkpoints) through the process-wide SQLAlchemy engine."""

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; None: TURING_DATABASE_URL or the embedded SQLite file."
    )

    _holders: set[str] = PrivateAttr(default_factory=set)
    _stop: threading.Event = PrivateAttr(default_factory=threading.Event)
    _heartbeat: threading.Thread | None = PrivateAttr(default=None)

    def engine(self) -> sa.Engine:
        # no connection is opened here: the pool connects on first use
        return get_engine(self.database_url or None)

    def claim_waves(self, workflow_id: int, wave_keys: list[str], run_id: str) -> tuple[str, list[str]]:
        """Hold the run's waves so no other run works on them meanwhile; (holder, keys not in the store)."""
        holder = claims.holder_for(run_id)
        missing = claims.claim(self.engine(), workflow_id, wave_keys, holder)
        self._holders.add(holder)
        if self._heartbeat is None:
            # a step can outlast a claim (a slow model, long retries): renew while the run lives
            self._heartbeat = threading.Thread(target=self._renew_until_stopped, name="turing-claims", daemon=True)
            self._heartbeat.start()
        return holder, missing

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(claims.RENEW_SECONDS):
            for holder in list(self._holders):
                try:
                    claims.renew(self.engine(), holder)
                except Exception as exc:  # the next chunk's renewal reports a lost claim
                    dg.get_dagster_logger().warning(f"could not renew wave claims: {exc}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._stop.set()
        for holder in self._holders:
            with_reconnect(lambda h=holder: claims.release(self.engine(), h), "releasing wave claims")
        self._holders.clear()


class OllamaModels(dg.ConfigurableResource):
    """Ollama models for Turing steps: one load per step, model and host, measured apart from inference.

    A thin configurable wrapper: it builds a `HostPool` (ollama/pool.py) on first use and hands
    out its `ModelSession`s. It never touches the network when constructed (Dagster builds
    resources more than once per run). A step's requests are shared across every host that
    serves its model.
    """

    host: str | None = Field(
        default=None,
        description="Ollama host(s), one or a comma list. None: TURING_OLLAMA_HOSTS (a comma list), else OLLAMA_HOST.",
    )
    hosts: list[str] | None = Field(default=None, description="Ollama hosts as a list (instead of `host`).")
    residency: Literal["shared", "exclusive"] = Field(
        default="shared",
        description="shared: a host keeps every model that fits (the server evicts by its own accounting), "
        "models are left to keep_alive after the run. exclusive: one model per host at a time, unloaded "
        "when the next step needs another and at the end of the run (a GPU that must stay free).",
    )
    keep_alive: str = Field(
        default="5m", description="How long a host keeps a model after its last call (Ollama duration)."
    )
    request_timeout_seconds: float = Field(
        default=600.0, description="Read deadline of one chat call (a hung server fails within it)."
    )
    connect_timeout_seconds: float = Field(default=5.0, description="Deadline to open a connection.")
    control_timeout_seconds: float = Field(
        default=30.0, description="Read deadline of /api/show, /api/ps, /api/tags and unloads."
    )
    load_timeout_seconds: float = Field(default=300.0, description="Read deadline of one model load.")
    slots_per_host: int = Field(default=4, description="Never more requests in flight per host.")
    max_attempts: int = Field(
        default=4, description="Attempts per call on transient errors (429/5xx, connection, timeout)."
    )
    backoff_initial_seconds: float = Field(default=0.5, description="First retry delay (doubles, plus jitter).")
    backoff_max_seconds: float = Field(default=10.0, description="Longest retry delay.")

    _pool: HostPool | None = PrivateAttr(default=None)
    _guard: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def pool(self) -> HostPool:
        with self._guard:
            if self._pool is None:
                fields = {f: getattr(self, f) for f in PoolConfig.__dataclass_fields__}
                fields["hosts"] = tuple(self.hosts) if self.hosts else None
                self._pool = HostPool(PoolConfig(**fields), dg.get_dagster_logger("turing.ollama"))
            return self._pool

    def session(self, model: str, options: dict | None = None) -> ModelSession:
        """A session for one model; nothing is contacted until it is used."""
        return self.pool.session(model, options)

    def host_list(self) -> list[str]:
        """The configured hosts, normalised."""
        return self.pool.hosts()

    def host_for(self, model: str) -> str:
        return self.pool.host_for(model)

    def resident_models(self, host: str | None = None) -> list[str]:
        return self.pool.resident_models(host)

    def drain_call_records(self) -> list[CallRecord]:
        """The loads, unloads and chats recorded since the last drain (for the GPU timeline)."""
        return self.pool.recorder.drain()

    def release(self) -> None:
        if self._pool is not None:
            self._pool.release()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.release()
        self.close()
