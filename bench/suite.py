"""`make bench`: Turing beside its baselines on the same postings, workflow and simulator, plus history and
backlog measurements; writes bench/results/bench.json and the Markdown table bench/results/bench.md.

Against the Ollama SIMULATOR (a stand-in: fixed load and inference seconds, `--slots` parallel slots,
one model resident at a time). Rows of the side-by-side table:

- turing (sqlite), turing (postgresql, when TURING_BENCH_DATABASE_URL or TURING_TEST_DATABASE_URL is set):
  `turing run` in a child process, start-up included;
- naive loop, old grouping (bench/baselines.py); bare client loop (bench/bare_loop.py: Turing's own
  calls replayed with the `ollama` client, same concurrency);
- ideal: load seconds x plan-minimum loads + LLM calls x inference seconds / slots.

History: `turing run` of `--new` postings on top of each `--history` size (seeded with SQL), and the
`turing run` with nothing pending. Backlog: peak RSS of `turing run` over each `--backlog` size, one
range run; `--backlog-content` of those postings have a description (they go through every LLM step),
the others end at the first step, so that the backlog's size, not its model calls, sets the run time.

    python bench/suite.py [--postings 150] [--history 10000,50000] [--new 500] [--backlog 10000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h  # noqa: E402
from bench.history import seed_history  # noqa: E402
from bench.table import history_markdown, side_by_side_markdown  # noqa: E402


def _plan():
    from turing_dagster.workflows.loader import load_workflows
    from turing_dagster.workflows.plan import WorkflowPlan

    return WorkflowPlan(next(w for w in load_workflows() if w.name == h.WORKFLOW))


def _pg_url() -> str | None:
    return os.environ.get("TURING_BENCH_DATABASE_URL") or os.environ.get("TURING_TEST_DATABASE_URL")


def turing_row(name: str, sim, tmp: Path, postings: Path, url: str | None) -> tuple[dict, list]:
    if url:
        h.reset_database(url)
    env = h.environment(tmp, sim.url, url)
    h.turing(["init"], env)
    h.turing(["postings", "load", str(postings)], env)
    sim.reset()
    run = h.turing(["run", h.WORKFLOW], env)
    timeline = sim.timeline()
    calls = [r for r in sim.requests() if r["endpoint"] == "chat" and r.get("messages")]
    rows = h.checkpoint_rows(env["TURING_DATABASE_URL"])
    row = {
        "name": name, "wall": run.seconds, "cpu": run.cpu_seconds, "peak_rss_mb": run.peak_rss_mb,
        "checkpoint_rows": rows, "checkpoint_rows_per_s": rows / run.seconds,
        "dagster_event_rows": h.dagster_event_rows(Path(env["DAGSTER_HOME"])),
        **h.timeline_summary(timeline, run.seconds),
    }
    return row, calls


def child_row(name: str, sim, args: list[str], env: dict) -> dict:
    sim.reset()
    run = h.run_measured(args, env)
    if run.returncode:
        raise RuntimeError(f"{name} failed:\n{run.stdout[-3000:]}")
    return {"name": name, "wall": run.seconds, "cpu": run.cpu_seconds, "peak_rss_mb": run.peak_rss_mb,
            "checkpoint_rows": None, "checkpoint_rows_per_s": None, "dagster_event_rows": None,
            **h.timeline_summary(sim.timeline(), run.seconds)}


def ideal_row(plan, calls: list[dict], load_seconds: float, request_seconds: float, slots: int) -> dict:
    used = {c["model"].split(":latest")[0] for c in calls}
    models = [s.model for s in plan.steps if s.model and s.model.split(":latest")[0] in used]
    loads = sum(1 for i, m in enumerate(models) if i == 0 or models[i - 1] != m)  # plan minimum
    wall = load_seconds * loads + len(calls) * request_seconds / slots
    return {"name": "ideal", "wall": wall, "loads": loads, "requests": len(calls), "gpu_busy": 1.0}


def side_by_side(args, sim, root: Path) -> dict:
    plan = _plan()
    postings = h.postings_file(root, args.postings)
    rows, notes = [], []
    row, calls = turing_row("turing (sqlite)", sim, root / "sqlite", postings, None)
    rows.append(row)
    url = _pg_url()
    if url:
        rows.append(turing_row("turing (postgresql)", sim, root / "pg", postings, url)[0])
    else:
        notes.append("PostgreSQL not measured: set TURING_BENCH_DATABASE_URL (or TURING_TEST_DATABASE_URL)")
    env = h.environment(root / "baselines", sim.url)
    rows.append(child_row("naive loop", sim, ["bench/baselines.py", "naive", str(postings), "--host", sim.url], env))
    rows.append(child_row("old grouping", sim, ["bench/baselines.py", "grouped", str(postings), "--host", sim.url,
                                                "--slots", str(args.slots)], env))
    (root / "calls.json").write_text(json.dumps(calls))
    bare = child_row("bare client loop", sim, ["bench/bare_loop.py", str(root / "calls.json"), "--host", sim.url,
                                               "--slots", str(args.slots)], env)
    rows.append(bare)
    ideal = ideal_row(plan, calls, args.load_seconds, args.request_seconds, args.slots)
    rows.append(ideal)
    for r in rows:
        r["wall_over_ideal"] = r["wall"] / ideal["wall"]
        r["wall_over_bare"] = r["wall"] / bare["wall"]
    return {"postings": args.postings, "llm_calls": len(calls), "rows": rows, "notes": notes}


def history(args, sim, root: Path) -> dict:
    plan = _plan()
    out = {"new": args.new, "sizes": {}}
    for size in args.history:
        tmp = root / f"history_{size}"
        env = h.environment(tmp, sim.url)
        h.turing(["init"], env)
        seed_history(env["TURING_DATABASE_URL"], plan, size)
        if args.quick:  # the smoke test: only the measurement the ratio is made of
            first = idle = status = h.Measured(float("nan"), float("nan"), "", 0)
        else:
            first = h.turing(["run", h.WORKFLOW], env)  # reads the unmarked history once and marks it finished
            idle = h.turing(["run", h.WORKFLOW], env)
            status = h.turing(["status", h.WORKFLOW], env)
        runs = []
        for repeat in range(args.history_repeat):  # a fresh batch each time; the fastest is least disturbed
            h.turing(["postings", "load", str(h.postings_file(tmp, args.new, prefix=f"n{repeat}"))], env)
            sim.reset()
            runs.append(h.turing(["run", h.WORKFLOW], env))
        new = min(runs, key=lambda r: r.seconds)
        out["sizes"][size] = {"first_idle_run": first.seconds, "idle_run": idle.seconds, "status": status.seconds,
                              "new_run": new.seconds, "new_run_cpu": min(r.cpu_seconds for r in runs),
                              "new_run_rss_mb": new.peak_rss_mb, "new_runs": [r.seconds for r in runs]}
    return out


def backlog(args, sim, root: Path) -> dict:
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


def main(argv: list[str] | None = None) -> dict:
    sizes = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=150, help="postings of the side-by-side table")
    parser.add_argument("--history", type=sizes, default=[10_000, 50_000], help="history sizes, comma-separated")
    parser.add_argument("--new", type=int, default=500, help="new postings run on top of each history")
    parser.add_argument("--backlog", type=sizes, default=[10_000, 50_000, 100_000], help="backlog sizes")
    parser.add_argument("--backlog-content", type=float, default=0.02, help="share of backlog postings with content")
    parser.add_argument("--load-seconds", type=float, default=0.05)
    parser.add_argument("--request-seconds", type=float, default=0.01)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--history-repeat", type=int, default=2, help="new batches run per history size (min taken)")
    parser.add_argument("--only", default="side,history,backlog", help="parts to run, comma-separated")
    parser.add_argument("--quick", action="store_true", help="history: skip the nothing-pending and status timings")
    parser.add_argument("--out-dir", type=Path, default=h.ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator

    profile = ModelProfile(load_seconds=args.load_seconds, request_seconds=args.request_seconds, token_seconds=0.0)
    config = SimulatorConfig(default_profile=profile, parallel=args.slots, max_loaded_models=1)
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="turing-bench-") as tmp, start_simulator(config, port=0) as sim:
        root = Path(tmp)
        result = {
            "simulator": {"load_seconds": args.load_seconds, "request_seconds": args.request_seconds,
                          "slots": args.slots, "max_loaded_models": 1},
            "side_by_side": side_by_side(args, sim, root) if "side" in args.only else None,
            "history": history(args, sim, root) if args.history and "history" in args.only else None,
            "backlog": backlog(args, sim, root) if args.backlog and "backlog" in args.only else None,
        }
    result["bench_seconds"] = time.perf_counter() - started
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result["load_average"] = [max(a, b) for a, b in zip(load_before, os.getloadavg(), strict=True)]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = (side_by_side_markdown(result) if result["side_by_side"] else "") + "\n" + history_markdown(result)
    (args.out_dir / "bench.md").write_text(markdown)
    print(markdown)
    return result


if __name__ == "__main__":
    main()
