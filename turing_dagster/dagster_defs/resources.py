"""Dagster resources: the store (its URL an EnvVar: it holds a password) and the Ollama model manager."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Literal

import dagster as dg
import sqlalchemy as sa
from pydantic import Field, PrivateAttr

from turing_dagster import settings
from turing_dagster.ollama.pool import HostPool, PoolConfig
from turing_dagster.ollama.records import CallRecord, CallRecorder
from turing_dagster.ollama.session import ModelSession
from turing_dagster.store import answers, claims, runs
from turing_dagster.store.engine import get_engine
from turing_dagster.store.retry import with_reconnect


class ClaimLostError(Exception):
    """Another run took over this run's waves (its claim expired while it could not renew it)."""


class TuringStore(dg.ConfigurableResource):
    """Turing's own tables (postings, waves, checkpoints, answers) through the process-wide SQLAlchemy engine."""

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; None: TURING_DATABASE_URL or the embedded SQLite file."
    )

    _holders: set[str] = PrivateAttr(default_factory=set)
    _lost: set[str] = PrivateAttr(default_factory=set)
    _stop: threading.Event = PrivateAttr(default_factory=threading.Event)
    _heartbeat: threading.Thread | None = PrivateAttr(default=None)

    def engine(self) -> sa.Engine:
        # no connection is opened here: the pool connects on first use
        return get_engine(self.database_url or None)

    def lookup(self, keys: Iterable[str]) -> dict[str, answers.StoredAnswer]:
        """Stored answers by request key (steps/llm_side.py's AnswerSource)."""
        wanted = list(keys)
        return with_reconnect(lambda: answers.lookup(self.engine(), wanted), "looking up stored answers")

    def claim_waves(self, workflow_id: int, wave_keys: list[str], run_id: str) -> tuple[str, list[str]]:
        """Hold the run's waves so no other run works on them meanwhile; (holder, keys not in the store).
        Raises claims.WaveBusyError when another live run holds one."""
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
                    if not claims.renew(self.engine(), holder):
                        self._lost.add(holder)
                except Exception as exc:  # noqa: BLE001 - a later renewal may get through
                    dg.get_dagster_logger().warning(f"could not renew wave claims: {exc}")

    def check_claim(self, holder: str, waves: list[str]) -> None:
        """Fail the step once the heartbeat found the claim gone: another run is on these waves now."""
        if holder in self._lost:
            raise ClaimLostError(f"this run lost its claim on wave(s) {', '.join(waves)}: another run took over")

    def record_step(self, run_id: str, report) -> None:
        """Keep what a step did (store/runs.py): plan estimates and the run's GPU timeline read it."""
        with_reconnect(lambda: runs.record_step(self.engine(), run_id, report), "recording the step")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._stop.set()
        for holder in self._holders:
            with_reconnect(lambda h=holder: claims.release(self.engine(), h), "releasing wave claims")
        self._holders.clear()


class OllamaModels(dg.ConfigurableResource):
    """Ollama models for Turing steps: one load per step, model and host, measured apart from inference.

    A thin configurable wrapper: it builds a `HostPool` (ollama/pool.py) per set of hosts on first use and
    hands out its `ModelSession`s. A step names its workflow, whose hosts it uses whatever launched the run
    (`settings.workflow_hosts`). It never touches the network when constructed (Dagster builds resources
    more than once per run).
    """

    host: str | None = Field(
        default=None,
        description="Ollama host(s), one or a comma list. None: TURING_OLLAMA_HOSTS (a comma list), else OLLAMA_HOST. "
        "A workflow's own TURING_OLLAMA_HOSTS_<WORKFLOW> wins.",
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
        default=4, description="Attempts per load or control call on transient errors (429/5xx, connection, timeout); "
        "a conversation's requests make its retries + 1."
    )
    backoff_initial_seconds: float = Field(default=0.5, description="First retry delay (doubles, plus jitter).")
    backoff_max_seconds: float = Field(default=10.0, description="Longest retry delay.")

    _pools: dict[tuple[str, ...], HostPool] = PrivateAttr(default_factory=dict)
    _recorder: CallRecorder = PrivateAttr(default_factory=CallRecorder)
    _guard: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _configured(self) -> str | list[str] | None:
        return list(self.hosts) if self.hosts else self.host

    def workflow_hosts(self, workflow: str | None) -> list[str]:
        """The hosts a workflow's steps use (HostConfigError names a malformed entry)."""
        return settings.workflow_hosts(workflow, self._configured()) if workflow else settings.ollama_hosts(
            self._configured())

    def pool(self, workflow: str | None = None) -> HostPool:
        hosts = tuple(self.workflow_hosts(workflow))
        with self._guard:
            if hosts not in self._pools:
                fields = {f: getattr(self, f) for f in PoolConfig.__dataclass_fields__ if hasattr(self, f)}
                fields.update(host=None, hosts=hosts)
                self._pools[hosts] = HostPool(PoolConfig(**fields), dg.get_dagster_logger("turing.ollama"),
                                              recorder=self._recorder)
            return self._pools[hosts]

    def session(self, model: str, options: dict | None = None, workflow: str | None = None) -> ModelSession:
        """A session for one model on the workflow's hosts; nothing is contacted until it is used."""
        return self.pool(workflow).session(model, options)

    def resident_models(self, workflow: str | None = None) -> list[str]:
        return self.pool(workflow).resident_models()

    def drain_call_records(self) -> list[CallRecord]:
        """The loads, unloads and chats recorded since the last drain (for the GPU timeline)."""
        return self._recorder.drain()

    def release(self) -> None:
        """The run is over: each pool lets go of its models as its residency says (ollama/pool.py)."""
        with self._guard:
            pools = list(self._pools.values())
        for pool in pools:
            pool.release()

    def close(self) -> None:
        with self._guard:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.release()
        self.close()
