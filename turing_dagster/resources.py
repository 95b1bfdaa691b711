"""The store as a Dagster resource; the URL comes from TURING_DATABASE_URL (an EnvVar: it holds a password)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from turing_dagster.store.engine import get_engine


class TuringStore(dg.ConfigurableResource):
    """Turing's own tables (postings, waves, checkpoints) through the process-wide SQLAlchemy engine."""

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; None: TURING_DATABASE_URL or the embedded SQLite file."
    )

    def engine(self) -> sa.Engine:
        # no connection is opened here: the pool connects on first use
        return get_engine(self.database_url or None)
