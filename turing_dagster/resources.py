"""The store as a Dagster resource; the URL comes from TURING_DATABASE_URL (an EnvVar: it holds a password)."""

from __future__ import annotations

import threading

import dagster as dg
import sqlalchemy as sa
from pydantic import Field, PrivateAttr

from turing_dagster.store import claims
from turing_dagster.store.engine import get_engine


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
            claims.release(self.engine(), holder)
        self._holders.clear()
