"""The checkpoint IO manager: the one way results reach `posting_state_checkpoints`, and the way out.

A step's asset drives its work and hands each chunk of results to `persist` as soon as it exists, so a
crash loses at most one chunk; Dagster hands `handle_output` the step's report when the step ends, which
is kept as the run's step record. `load_input` gives an asset downstream of a conversation that
conversation's current outputs for the partition's postings.
"""

# No `from __future__ import annotations` here: Dagster reads the resource dependency annotation.

from collections.abc import Callable

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from turing_dagster import settings
from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.steps.results import Chunk, StepError
from turing_dagster.steps.run_step import StepReport
from turing_dagster.store.checkpoints import PostingRows, write_rows
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.schema import wave_postings


class CheckpointIOManager(dg.ConfigurableIOManager):
    """Commits each chunk of a step's results in one transaction; a row the database cannot hold fails
    that posting's step alone (its id and the reason in the row's error) and the rest commits."""

    store: dg.ResourceDependency[TuringStore]
    chunk_size: int = Field(
        default=settings.DEFAULT_CHUNK_SIZE, ge=1, description="Postings per committed chunk within a step."
    )

    def persist(self, workflow_id: int, chunk: Chunk, warn: Callable[[str], None]) -> int:
        """Write one chunk (again after a lost connection, the results still in memory); returns the
        checkpoints written (results of postings reloaded meanwhile are dropped)."""
        engine = self.store.engine()
        rows = list(chunk.rows)
        written, bad = with_reconnect(lambda: write_rows(engine, workflow_id, rows, members_only=True),
                                      "a chunk write", on_retry=warn)
        if bad:
            failed = [_unstorable(r, why) for r, why in bad]
            for r, why in bad:
                warn(f"posting {r.checkpoint.posting_id}: its result cannot be stored ({why}); that step is failed")
            more, worse = with_reconnect(lambda: write_rows(engine, workflow_id, failed, members_only=True),
                                         "a chunk write", on_retry=warn)
            if worse:
                (r, why), = worse[:1]
                raise StepError(f"posting {r.checkpoint.posting_id}: not even its failure can be stored: {why}")
            written += more
        if written < len(rows):
            warn(f"{len(rows) - written} result(s) dropped: their postings were reloaded with new content during "
                 "the step and will be processed again")
        return written

    def handle_output(self, context: dg.OutputContext, obj: StepReport) -> None:
        if not isinstance(obj, StepReport):
            raise TypeError(f"{context.asset_key.to_user_string()}: the checkpoint IO manager stores step reports, "
                            f"not {type(obj).__name__}")
        self.store.record_step(context.run_id, obj)

    def load_input(self, context: dg.InputContext) -> dict[str, str | None]:
        """{posting_id: output} of the upstream conversation's completed rows in the input's waves."""
        upstream = context.upstream_output
        meta = upstream.definition_metadata or {}
        workflow_id, conversation_id = int(meta["workflow_id"]), int(meta["conversation_id"])
        version = str(meta["step_version"])  # current rows only: what the plan as defined now made
        waves = sorted(context.asset_partition_keys)
        query = (
            sa.select(psc.c.posting_id, psc.c.output)
            .join(wave_postings, sa.and_(wave_postings.c.workflow_id == psc.c.workflow_id,
                                         wave_postings.c.posting_id == psc.c.posting_id))
            .where(psc.c.workflow_id == workflow_id, psc.c.conversation_id == conversation_id,
                   psc.c.status == "completed", psc.c.code_version == version, wave_postings.c.wave_key.in_(waves))
        )
        with self.store.engine().connect() as conn:
            return dict(conn.execute(query).all())


def _unstorable(rows: PostingRows, why: str) -> PostingRows:
    """The posting's step failed instead: no output, no write-back, no answers, the reason in `error`."""
    cp = rows.checkpoint
    failed = type(cp)(
        posting_id=cp.posting_id, conversation_id=cp.conversation_id, status="failed",
        next_conversation_id=cp.conversation_id, code_version=cp.code_version, wave_key=cp.wave_key,
        error=f"the result cannot be stored: {why}", attempts=cp.attempts, snapshot={"retryable": False},
    )
    return PostingRows(failed, [], [], rows.voids)

