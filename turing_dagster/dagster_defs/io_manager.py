"""The checkpoint IO manager: step outputs go into `posting_state_checkpoints`, inputs come from there."""

from __future__ import annotations

import json
import time

import dagster as dg
from pydantic import Field

from turing_dagster.dagster_defs.registry import plan_for
from turing_dagster.steps.results import Chunk, StepError, StepOutput
from turing_dagster.steps.wave_state import WaveState
from turing_dagster.store import claims
from turing_dagster.store.checkpoints import write_chunk
from turing_dagster.store.engine import get_engine
from turing_dagster.store.retry import with_reconnect


class CheckpointIOManager(dg.ConfigurableIOManager):
    """Commits each chunk of a step's results in one transaction, so a crash loses at most one chunk;
    a step's input names its waves, whose state the step rebuilds from checkpoints wave by wave."""

    database_url: str | None = Field(default=None, description="None: TURING_DATABASE_URL or embedded SQLite.")

    def handle_output(self, context: dg.OutputContext, obj: StepOutput) -> None:
        engine = get_engine(self.database_url or None)
        workflow_id = obj.plan.workflow.workflow_id
        stats = obj.stats
        # a lost connection (a PostgreSQL restart) retries the chunk's transaction with the results
        # still in memory, rather than failing the step and asking the model again
        warn = context.log.warning

        def commit(chunk: Chunk) -> None:
            updates = list(chunk.posting_updates)  # read twice when the write is retried
            written = with_reconnect(
                lambda: write_chunk(engine, workflow_id, chunk.checkpoints, updates, members_only=True),
                "a chunk write", on_retry=warn,
            )
            if written < len(chunk.checkpoints):
                context.log.warning(
                    f"{len(chunk.checkpoints) - written} result(s) dropped: their postings were reloaded with "
                    "new content during the step and will be processed again"
                )
            renewed = obj.holder and with_reconnect(
                lambda: claims.renew(engine, obj.holder), "a claim renewal", on_retry=warn
            )
            if obj.holder and not renewed:
                raise StepError(f"this run lost its claim on wave(s) {', '.join(obj.waves)}: another run took over")

        obj.commit_chunks(commit)
        stats.finished = stats.finished or time.perf_counter()
        summary = stats.summary()
        context.log.info(
            json.dumps(
                {
                    "event": "wave_batch_finished",
                    "workflow": obj.plan.workflow.name,
                    "waves": obj.waves,
                    "execution_order": obj.step.conversation.execution_order,
                    "conversation": obj.step.conversation.name,
                    "already_done": obj.already_done,
                    "not_ready": obj.not_ready,
                    **summary,
                }
            )
        )
        per_wave = {
            wave: {
                "wave_completed": stats.count("completed", wave),
                "wave_failed": stats.count("failed", wave),
                "wave_skipped": stats.count("skipped", wave),
            }
            for wave in obj.waves
        }
        # one wave: the output's metadata is that partition's (add_asset_metadata would query Dagster's
        # partition storage to check the key); a range: each partition its own counts
        single = per_wave[obj.waves[0]] if obj.add_wave_metadata and len(obj.waves) == 1 else {}
        for wave, counts in per_wave.items() if obj.add_wave_metadata and not single else []:
            obj.add_wave_metadata(counts, partition_key=wave)
        context.add_output_metadata(
            {
                **{k: v for k, v in summary.items() if v is not None},
                **single,
                "already_done": obj.already_done,
                "not_ready": obj.not_ready,
                "waves": ", ".join(obj.waves),
                "preview": dg.MetadataValue.md(stats.preview_markdown()),
            }
        )

    def load_input(self, context: dg.InputContext) -> WaveState:
        # only which waves and after which step: the next step reads each wave when it reaches it,
        # so a range run never holds every posting of the range (steps/wave_work.py)
        key = context.upstream_output.asset_key
        plan = plan_for(key.path[0])
        step = plan.by_asset_name[key.path[-1]]
        return WaveState(plan.workflow.workflow_id, sorted(context.asset_partition_keys), step.index, {})
