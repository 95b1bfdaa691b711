"""The store as a Dagster resource; the URL comes from TURING_DATABASE_URL (an EnvVar: it holds a password)."""

from __future__ import annotations

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

    def engine(self) -> sa.Engine:
        # no connection is opened here: the pool connects on first use
        return get_engine(self.database_url or None)

    def claim_waves(self, workflow_id: int, wave_keys: list[str], run_id: str) -> str:
        """Hold the run's waves so no other run works on them at the same time; returns the holder."""
        holder = claims.holder_for(run_id)
        claims.claim(self.engine(), workflow_id, wave_keys, holder)
        self._holders.add(holder)
        return holder

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for holder in self._holders:
            claims.release(self.engine(), holder)
        self._holders.clear()
