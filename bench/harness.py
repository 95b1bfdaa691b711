"""What the benchmarks share: a throwaway store and Dagster home, postings, `turing` in a child process
measured for wall time and peak RSS, and the simulator's timeline turned into loads and GPU-busy time.

Every measured command runs as its own process (`os.wait4` gives that child's own peak RSS), so
start-up (imports, the Dagster instance, definitions) is part of what is measured, as a user pays it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = "job_posting_pipeline"


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str
    returncode: int
    cpu_seconds: float = 0.0  # user + system of the child: less noisy than wall on a shared machine


def run_measured(args: list[str], env: dict[str, str], interpreter: bool = True) -> Measured:
    """A child process (this Python running `args`, or `args` itself), with its own ru_maxrss from wait4
    (Linux: kilobytes)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args] if interpreter else args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, usage.ru_maxrss / 1024, out, proc.returncode, usage.ru_utime + usage.ru_stime)


def turing(args: list[str], env: dict[str, str], check: bool = True) -> Measured:
    result = run_measured(["-c", "from turing_dagster.cli import console_main; console_main()", *args], env)
    if check and result.returncode != 0:
        raise RuntimeError(f"turing {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}")
    return result


def environment(tmp: Path, sim_url: str, database_url: str | None = None) -> dict[str, str]:
    home = tmp / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURING_", "DAGSTER_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DAGSTER_HOME=str(home),
        TURING_STATE_DIR=str(tmp / "state"),
        TURING_DATABASE_URL=database_url or f"sqlite:///{tmp / 'state' / 'turing.db'}",
        TURING_WORKFLOWS_DIR=str(ROOT / "workflow_defs"),
        OLLAMA_HOST=sim_url,
    )
    return env


def reset_database(url: str) -> None:
    """Drop Turing's tables in a server database (the bench owns it for the run)."""
    from turing_dagster.store.schema import metadata

    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def postings_file(tmp: Path, n: int, prefix: str = "b", seed: int = 3001, content_share: float = 1.0) -> Path:
    """`n` enabled sample-like postings with descriptions long enough to go through every step.

    Every description ends with its posting id, so no two postings (of this file or of another prefix)
    render the same request: Turing answers identical requests once, and a bench that repeated a
    posting would measure that reuse instead of the model calls. With `content_share` < 1, the others
    have an empty description: they end at the first step.
    """
    from turing_dagster.sample_data.generate_postings import build_postings

    with_content = max(1, round(n * content_share)) if content_share > 0 else 0
    records = [r for r in build_postings(seed=seed, total=max(min(with_content, 5000) * 2, 50))
               if r.get("enabled", True) and len((r.get("job_description") or "").strip()) > 200]
    every = max(1, round(1 / content_share)) if content_share > 0 else n + 1
    path = tmp / f"{prefix}_{n}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i in range(n):
            record, pid = dict(records[i % len(records)]), f"{prefix}{i:07d}"
            empty = content_share <= 0 or i % every
            record["job_description"] = "" if empty else f"{record['job_description']}\n\nReference: {pid}."
            out.write(json.dumps({**record, "posting_id": pid}) + "\n")
    return path


def busy_fraction(events: list[dict], start: float | None = None, end: float | None = None) -> float:
    """Share of the span during which the simulated GPU loaded a model or ran an inference."""
    spans = sorted((e["start"], e["end"]) for e in events if e["type"] in ("load", "inference"))
    if not spans:
        return 0.0
    start = spans[0][0] if start is None else start
    end = max(e for _, e in spans) if end is None else end
    busy, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            busy += (cur_e - cur_s) if cur_e is not None else 0.0
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    busy += cur_e - cur_s
    return busy / max(end - start, 1e-9)


def timeline_summary(timeline: dict, wall: float) -> dict:
    counts = timeline["counts"]
    return {
        "loads": sum(counts["loads"].values()),
        "requests": sum(counts["requests"].values()),
        # busy time over the measured wall time: what the GPU did while the user waited
        "gpu_busy": busy_fraction(timeline["events"]) * _span(timeline["events"]) / wall if wall else 0.0,
    }


def _span(events: list[dict]) -> float:
    spans = [(e["start"], e["end"]) for e in events if e["type"] in ("load", "inference")]
    return (max(e for _, e in spans) - min(s for s, _ in spans)) if spans else 0.0


def dagster_event_rows(home: Path) -> int:
    """Rows of Dagster's event log in this home (SQLite run storage: one database per run plus the index)."""
    total = 0
    for db in list(home.rglob("*.db")):
        engine = sa.create_engine(f"sqlite:///{db}")
        try:
            with engine.connect() as conn:
                if sa.inspect(conn).has_table("event_logs"):
                    total += conn.execute(sa.text("SELECT count(*) FROM event_logs")).scalar_one()
        finally:
            engine.dispose()
    return total


def checkpoint_rows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM posting_state_checkpoints")).scalar_one()
    finally:
        engine.dispose()


def chat_calls(sim) -> list[dict]:
    """The chat requests the simulator received since its last reset, in arrival order (loads excluded)."""
    return [r for r in sim.requests() if r["endpoint"] == "chat" and r.get("messages")]


def request_text(body: dict) -> str:
    """What identifies a request: model, messages, format and options (two equal texts: one answer)."""
    return json.dumps([body["model"].split(":latest")[0], body["messages"], body.get("format"), body.get("options")],
                      sort_keys=True)


def slot_use(timeline: dict, slots: int, request_seconds: float | None = None) -> dict:
    """Busy slot-seconds over available slot-seconds from the first chat's start to the last chat's end,
    the time the server spent loading a model in between excluded (nobody could use a slot then).

    `slot_use` counts each chat as long as the simulator held its slot: the configured inference seconds
    plus however late its event loop woke up, which grows with the load a client puts on it;
    `slot_use_nominal` counts each chat as `request_seconds`, as a GPU's fixed inference time would."""
    chats = [e for e in timeline["events"] if e["type"] == "inference" and e.get("kind") == "chat"]
    if not chats:
        return {"slot_use": None, "slot_use_nominal": None, "chat_span_s": 0.0, "load_s_in_span": 0.0,
                "busy_slot_s": 0.0}
    first, last = min(e["start"] for e in chats), max(e["end"] for e in chats)
    loads = sorted((max(e["start"], first), min(e["end"], last)) for e in timeline["events"] if e["type"] == "load")
    loading, reach = 0.0, first
    for s, e in loads:  # the union of the load intervals within the span
        s = max(s, reach)
        if e > s:
            loading, reach = loading + e - s, e
    busy = sum(e["end"] - e["start"] for e in chats)
    available = slots * max(last - first - loading, 1e-9)
    nominal = len(chats) * request_seconds / available if request_seconds is not None else None
    return {"slot_use": busy / available, "slot_use_nominal": nominal, "chat_span_s": last - first,
            "load_s_in_span": loading, "busy_slot_s": busy}
