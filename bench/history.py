"""History for the benchmarks: postings that already went through the workflow, written with plain SQL
inserts (seconds for 50k postings, instead of running the engine over them).

Each history posting is admitted into a wave of 1000 and has one current `completed` checkpoint per
plan step, the last one ending its route: the store as the engine leaves it after a finished run,
except that the waves carry no finished marker, so the first `turing run` reads them once.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from turing_dagster.store.schema import posting_state_checkpoints, postings, wave_postings, waves
from turing_dagster.store.waves import wave_key
from turing_dagster.workflows.plan import WorkflowPlan

WAVE = 1000


def seed_history(url: str, plan: WorkflowPlan, n: int, prefix: str = "hist") -> None:
    engine = sa.create_engine(url)
    wf = plan.workflow.workflow_id
    old = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    description = "Senior data engineer in Zurich. " * 12
    try:
        with engine.begin() as conn:
            for start in range(0, n, WAVE):
                ids = [f"{prefix}{i:07d}" for i in range(start, min(n, start + WAVE))]
                key = wave_key(start // WAVE + 1)
                conn.execute(sa.insert(postings), [
                    {"posting_id": pid, "job_title": "Data engineer", "job_description": description, "enabled": True,
                     "extra": {}, "created_at": old, "updated_at": old} for pid in ids
                ])
                conn.execute(sa.insert(waves).values(workflow_id=wf, wave_key=key, posting_count=len(ids), created_at=old))
                conn.execute(sa.insert(wave_postings), [{"workflow_id": wf, "wave_key": key, "posting_id": pid} for pid in ids])
                rows = []
                for pid in ids:
                    for index, step in enumerate(plan.steps):
                        nxt = plan.steps[index + 1].conversation.conversation_id if index + 1 < len(plan.steps) else None
                        rows.append({
                            "posting_id": pid, "workflow_id": wf, "conversation_id": step.conversation.conversation_id,
                            "status": "completed", "output": "ok", "wave_key": key, "code_version": step.version,
                            "state_snapshot": {"current_conversation_id": nxt,
                                               "last_conversation_id": step.conversation.conversation_id,
                                               "last_status": "completed"},
                            "attempts": 1, "latency_ms": 10, "tokens_in": 10, "tokens_out": 10,
                        })
                conn.execute(sa.insert(posting_state_checkpoints), rows)
    finally:
        engine.dispose()
