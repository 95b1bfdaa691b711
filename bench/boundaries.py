"""Benchmark: where the time between two LLM steps goes, on a `turing run` of small waves.

One `turing run` of `--postings` postings in waves of `--wave-size` (one range run) against the Ollama
SIMULATOR (a stand-in), with bench/probe.py in the process: time-stamped stack samples of the main thread
(Dagster's step: outputs, checks, events) and of the step's conversations thread, and exact spans (HTTP requests by path, spawned processes, stored Dagster events). A *boundary* is the
time from one LLM step's last answer to the next LLM step's first request (the engine's own call records
in `run_steps`); the Python steps between them are part of it. The conversations thread's samples are the
critical path (the next conversation starts when the last one's last chunk is committed); the main thread
records the finished conversation meanwhile. Each sample in a boundary is put in:

- a *phase*: the innermost frame that names a part of the step flow (QA checks, wave claims, reading the
  wave, chunk commits, the model session's show/load/tags/ps, the run record, metadata, Dagster's step
  machinery, ...);
- a *kind*: what the thread was doing there (SQL on Dagster's storage, SQL on Turing's store, HTTP,
  spawning a process, waiting, Python).

Also before the first request (start-up) and after the last answer. A measurement, not a test.

    python bench/boundaries.py [--postings 40] [--wave-size 10] [--out bench/results/boundaries.json] [--py-spy]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h  # noqa: E402
from bench.boundary_rules import THREAD_NAMES, kind_of, phase_of  # noqa: E402
from bench.side import simulator  # noqa: E402

PY_SPY = Path(sys.executable).parent / "py-spy"


def step_rows(url: str, plan) -> list[dict]:
    names = {s.conversation.conversation_id: s.conversation.name for s in plan.steps}
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT conversation_id, model, started, finished, calls FROM run_steps ORDER BY id")).all()
    finally:
        engine.dispose()
    out = []
    for cid, model, started, finished, calls in rows:
        calls = json.loads(calls) if isinstance(calls, str) else (calls or [])
        chats = [c for c in calls if c["kind"] == "chat"]
        out.append({"step": names.get(cid, str(cid)), "model": model, "started": started, "finished": finished,
                    "first_request": min((c["start"] for c in chats), default=None),
                    "last_answer": max((c["end"] for c in chats), default=None)})
    return sorted(out, key=lambda s: s["started"])


def windows(steps: list[dict], started: float, ended: float) -> list[dict]:
    llm = [s for s in steps if s["first_request"] is not None]
    if not llm:
        return [{"name": "the whole run (no LLM call)", "start": started, "end": ended}]
    found = [{"name": "start-up: process start -> first request", "start": started, "end": llm[0]["first_request"]}]
    for a, b in zip(llm, llm[1:], strict=False):
        between = [s["step"] for s in steps if a["started"] < s["started"] < b["started"]]
        found.append({"name": f"{a['step']} -> {' -> '.join([*between, b['step']])}", "start": a["last_answer"],
                      "end": b["first_request"], "boundary": True})
    found.append({"name": "end: last answer -> process exit", "start": llm[-1]["last_answer"], "end": ended})
    return found


def _thread_label(name: str) -> str:
    """A span's thread (Python's name for it): main, conversations, or one of the dispatch's threads."""
    return {"MainThread": "main", **THREAD_NAMES}.get(name, "other threads")


def attribute(profile: dict, window: dict) -> dict:
    """Sampled seconds of the window by thread, phase and kind; the exact spans that fall in it."""
    names, samples = profile["names"], profile["samples"]
    threads: dict[str, dict[str, Counter]] = defaultdict(lambda: {"phases": Counter(), "kinds": Counter(),
                                                                  "top_functions": Counter()})
    previous = None
    for t, stacks in samples:
        if previous is not None and window["start"] <= t <= window["end"]:
            weight = min(t - previous, 10 * profile["interval"])  # a sampler that was not scheduled: not counted
            for thread, stack in stacks.items():
                frames = [names[i] for i in stack]
                mine = threads[THREAD_NAMES.get(thread, thread)]
                mine["phases"][phase_of(frames, thread)] += weight
                mine["kinds"][kind_of(frames)] += weight
                mine["top_functions"][frames[0].rsplit("/", 1)[-1] if frames else "?"] += weight
        previous = t
    spans = defaultdict(lambda: [0, 0.0])
    for kind, detail, start, end, thread in profile["spans"]:
        if start >= window["start"] and end <= window["end"]:
            key = f"{kind} {detail} ({_thread_label(thread)})"
            spans[key][0] += 1
            spans[key][1] += end - start
    return {"name": window["name"], "seconds": window["end"] - window["start"], "boundary": window.get("boundary", False),
            "threads": {name: {"sampled_seconds": sum(c["phases"].values()),
                               **{k: dict(v.most_common(12 if k == "top_functions" else None)) for k, v in c.items()}}
                        for name, c in threads.items()},
            "spans": {k: {"count": n, "seconds": s} for k, (n, s) in sorted(spans.items(), key=lambda kv: -kv[1][1])}}


def totals(parts: list[dict]) -> dict:
    """The boundaries summed (start-up and end left out), per thread."""
    bounds = [p for p in parts if p["boundary"]]
    out = {"boundaries": len(bounds), "seconds": sum(p["seconds"] for p in bounds), "threads": {}}
    for thread in sorted({name for p in bounds for name in p["threads"]}):
        mine = {}
        for key in ("phases", "kinds"):
            summed = Counter()
            for p in bounds:
                summed.update(p["threads"].get(thread, {}).get(key, {}))
            mine[key] = dict(summed.most_common())
        mine["sampled_seconds"] = sum(mine["phases"].values())
        out["threads"][thread] = mine
    spans: dict[str, dict] = defaultdict(lambda: {"count": 0, "seconds": 0.0})
    for p in bounds:
        for k, v in p["spans"].items():
            spans[k]["count"] += v["count"]
            spans[k]["seconds"] += v["seconds"]
    out["spans"] = dict(sorted(spans.items(), key=lambda kv: -kv[1]["seconds"]))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=40)
    parser.add_argument("--wave-size", type=int, default=10)
    parser.add_argument("--request-seconds", type=float, default=0.01)
    parser.add_argument("--load-seconds", type=float, default=0.05)
    parser.add_argument("--interval", type=float, default=0.002, help="seconds between stack samples")
    parser.add_argument("--py-spy", action="store_true", help="also record the run with py-spy (speedscope file)")
    parser.add_argument("--profile-out", type=Path, default=None, help="also keep the raw samples and spans here")
    parser.add_argument("--out", type=Path, default=h.ROOT / "bench" / "results" / "boundaries.json")
    args = parser.parse_args(argv)
    from turing_dagster.workflows.loader import load_workflows
    from turing_dagster.workflows.plan import WorkflowPlan

    plan = WorkflowPlan(next(w for w in load_workflows() if w.name == h.WORKFLOW))
    with tempfile.TemporaryDirectory(prefix="turing-boundaries-") as tmp, \
            simulator(args.load_seconds, args.request_seconds, 4) as sim:
        root = Path(tmp)
        env = h.environment(root, sim.url)
        h.turing(["init"], env)
        h.turing(["postings", "load", str(h.postings_file(root, args.postings, prefix="p"))], env)
        sim.reset()
        profile_path = root / "profile.json"
        code = (f"import sys; sys.path.insert(0, {str(h.ROOT)!r}); from bench.probe import install; "
                f"install({str(profile_path)!r}, {args.interval}); from turing_dagster.cli import console_main; console_main()")
        run = h.run_measured(["-c", code, "run", h.WORKFLOW, "--wave-size", str(args.wave_size)], env)
        if run.returncode:
            raise RuntimeError(f"turing run failed:\n{run.stdout[-3000:]}")
        profile = json.loads(profile_path.read_text())
        if args.profile_out:
            args.profile_out.write_text(profile_path.read_text())
        steps = step_rows(env["TURING_DATABASE_URL"], plan)
        if args.py_spy and PY_SPY.exists():
            env2 = h.environment(root / "again", sim.url)
            h.turing(["init"], env2)
            h.turing(["postings", "load", str(h.postings_file(root, args.postings, prefix="q"))], env2)
            speedscope = args.out.with_suffix(".speedscope.json")
            h.run_measured([str(PY_SPY), "record", "--format", "speedscope", "--idle", "-o", str(speedscope), "--",
                            sys.executable, "-c", "from turing_dagster.cli import console_main; console_main()", "run", h.WORKFLOW,
                            "--wave-size", str(args.wave_size)], env2, interpreter=False)
    parts = [attribute(profile, w) for w in windows(steps, profile["started"], profile["ended"])]
    result = {"benchmark": "boundaries", "postings": args.postings, "wave_size": args.wave_size,
              "request_seconds": args.request_seconds, "load_seconds": args.load_seconds, "interval": args.interval,
              "wall": run.seconds, "steps": steps, "windows": parts, "total": totals(parts),
              "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_average": list(os.getloadavg())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    t = result["total"]
    print(f"boundaries: {t['boundaries']} between LLM steps, {t['seconds']:.2f} s in all; run {run.seconds:.2f} s")
    for thread, mine in t["threads"].items():
        print(f"  {thread} thread, {mine['sampled_seconds']:.2f} s sampled:")
        for name, seconds in list(mine["phases"].items())[:8]:
            print(f"    {seconds:6.2f} s  {name}")
    return result


if __name__ == "__main__":
    main()
