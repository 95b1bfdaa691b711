"""History and backlog measurements of `make bench` (bench/suite.py), and the history they run on.

History: postings that already went through the workflow, written with plain SQL inserts (seconds for
50k postings, instead of running the engine over them). Each history posting is admitted into a wave of
1000 and has one current `completed` checkpoint per plan step, the last one ending its route: the store
as the engine leaves it after a finished run, except that the waves carry no settled marker, so the
first `turing run` reads them once. Then `turing run` of new postings on top of it, each size in a store
and Dagster home of its own.

Backlog: one `turing run` over a backlog of pending postings (a range of waves of 1000), peak RSS.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from bench import harness as h
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


def history(args, sim, plan: WorkflowPlan, root: Path) -> dict:
    """`turing run` of `args.new` new postings on top of each history size (the fastest of the repeats)."""
    out = {"new": args.new, "sizes": {}}
    for size in args.history:
        tmp = root / f"history_{size}"
        env = h.environment(tmp, sim.url)
        h.turing(["init"], env)
        seed_history(env["TURING_DATABASE_URL"], plan, size)
        if args.quick:  # the smoke test: only the measurement the ratio is made of
            first = idle = status = h.Measured(float("nan"), float("nan"), "", 0)
        else:
            first = h.turing(["run", h.WORKFLOW], env)  # reads the unmarked history once and marks it settled
            idle = h.turing(["run", h.WORKFLOW], env)
            status = h.turing(["status", h.WORKFLOW], env)
        runs, calls = [], []
        for repeat in range(args.history_repeat):  # a fresh batch each time; the fastest is least disturbed
            h.turing(["postings", "load", str(h.postings_file(tmp, args.new, prefix=f"n{repeat}"))], env)
            sim.reset()
            runs.append(h.turing(["run", h.WORKFLOW], env))
            calls.append(len(h.chat_calls(sim)))
        new = min(runs, key=lambda r: r.seconds)
        out["sizes"][size] = {"first_idle_run": first.seconds, "idle_run": idle.seconds, "status": status.seconds,
                              "new_run": new.seconds, "new_run_cpu": min(r.cpu_seconds for r in runs),
                              "new_run_rss_mb": new.peak_rss_mb, "new_runs": [r.seconds for r in runs],
                              "new_run_calls": calls}
    return out


def backlog(args, sim, root: Path) -> dict:
    """Peak RSS and wall of one `turing run` over each backlog size."""
    out = {"content_share": args.backlog_content, "sizes": {}}
    for size in args.backlog:
        tmp = root / f"backlog_{size}"
        env = h.environment(tmp, sim.url)
        h.turing(["init"], env)
        path = h.postings_file(tmp, size, prefix="k", content_share=args.backlog_content)
        h.turing(["postings", "load", str(path)], env)
        sim.reset()
        run = h.turing(["run", h.WORKFLOW], env)
        t = sim.timeline()["counts"]
        out["sizes"][size] = {"wall": run.seconds, "peak_rss_mb": run.peak_rss_mb,
                              "llm_calls": sum(t["requests"].values()), "loads": sum(t["loads"].values())}
    return out
