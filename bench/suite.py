"""`make bench`: Turing beside its baselines on the same postings, workflow and simulator, what a prompt edit
costs on history, and history and backlog measurements; writes bench/results/bench.json and bench.md.

Against the Ollama SIMULATOR (a stand-in: fixed load and inference seconds, `--slots` parallel slots,
one model resident at a time). Parts (`--only`, comma-separated):

- slots: at each `--latencies` setting, `turing run` (SQLite; PostgreSQL too when TURING_BENCH_DATABASE_URL
  or TURING_TEST_DATABASE_URL is set) beside the bare client loop replaying its calls and Dagster's floor
  (bench/floor.py): slot use of both, Turing's own seconds beyond bare + floor (bench/side.py);
- order: Turing beside the naive loop, the old grouping, the bare loop and the ideal (bench/side.py);
- edit: a one-word prompt edit on finished postings: plain run, `turing plan`, `--stale`, on a small history and
  on a large one asking for the same work (bench/edit.py);
- history, backlog: new postings on top of history; peak RSS over a backlog (bench/history.py).

Every Turing run starts from a fresh store and Dagster home: nothing is answered from an earlier run's
stored answers unless reuse is what the part measures (edit).

    python bench/suite.py [--latencies 0.01:900,0.2:300] [--repeat 2] [--postings 150] [--edit-postings 3000]
                          [--edit-history 20000] [--history 10000,50000] [--new 500] [--backlog 10000,50000,100000]
                          [--only ...]
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
from bench.edit import prompt_edit  # noqa: E402
from bench.history import backlog, history  # noqa: E402
from bench.side import latency, order  # noqa: E402
from bench.table import markdown  # noqa: E402

PARTS = ("slots", "order", "edit", "history", "backlog")


def _plan():
    from turing_dagster.workflows.loader import load_workflows
    from turing_dagster.workflows.plan import WorkflowPlan

    return WorkflowPlan(next(w for w in load_workflows() if w.name == h.WORKFLOW))


def _latencies(text: str) -> list[tuple[float, int]]:
    pairs = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        seconds, _, n = item.partition(":")
        pairs.append((float(seconds), int(n or 900)))
    return pairs


def parse(argv: list[str] | None) -> argparse.Namespace:
    sizes = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--latencies", type=_latencies, default=_latencies("0.01:900,0.2:300"),
                   help="slots: inference seconds per call and postings, SECONDS:POSTINGS comma-separated")
    p.add_argument("--repeat", type=int, default=2,
                   help="slots: rounds of Turing, bare loop and floor (fastest kept; each round's ratios too)")
    p.add_argument("--floor-assets", type=int, default=None,
                   help="slots: no-op assets of Dagster's floor (default: the workflow's conversations)")
    p.add_argument("--postings", type=int, default=150, help="order: postings beside the naive loop and old grouping")
    p.add_argument("--edit-postings", type=int, default=3000, help="edit: finished postings before the edit")
    p.add_argument("--edit-history", type=int, default=20_000,
                   help="edit: finished postings without a description added for the large history (0: small only)")
    p.add_argument("--history", type=sizes, default=[10_000, 50_000], help="history sizes, comma-separated")
    p.add_argument("--new", type=int, default=500, help="new postings run on top of each history")
    p.add_argument("--history-repeat", type=int, default=2, help="new batches run per history size (fastest kept)")
    p.add_argument("--quick", action="store_true", help="history: skip the nothing-pending and status timings")
    p.add_argument("--backlog", type=sizes, default=[10_000, 50_000, 100_000], help="backlog sizes")
    p.add_argument("--backlog-content", type=float, default=0.02, help="share of backlog postings with content")
    p.add_argument("--load-seconds", type=float, default=0.05, help="simulated model load seconds")
    p.add_argument("--request-seconds", type=float, default=0.01, help="inference seconds of order, edit, history, backlog")
    p.add_argument("--slots", type=int, default=4)
    p.add_argument("--only", default=",".join(PARTS), help=f"parts to run, comma-separated: {', '.join(PARTS)}")
    p.add_argument("--out-dir", type=Path, default=h.ROOT / "bench" / "results")
    args = p.parse_args(argv)
    args.parts = {x.strip() for x in args.only.split(",") if x.strip()}
    if args.parts - set(PARTS):
        p.error(f"--only: unknown part(s) {', '.join(sorted(args.parts - set(PARTS)))}; known: {', '.join(PARTS)}")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator

    plan = _plan()
    args.floor_assets = args.floor_assets or len(plan.steps)  # one materialization per conversation, as Turing's
    started = time.perf_counter()
    load_before = os.getloadavg()
    result: dict = {"simulator": {"load_seconds": args.load_seconds, "request_seconds": args.request_seconds,
                                  "slots": args.slots, "max_loaded_models": 1}}
    with tempfile.TemporaryDirectory(prefix="turing-bench-") as tmp:
        root = Path(tmp)
        if "slots" in args.parts:
            result["slots"] = [latency(args, plan, s, n, root) for s, n in args.latencies]
        if "order" in args.parts:
            result["order"] = order(args, plan, root)
        if "edit" in args.parts and args.edit_postings:
            result["edit"] = prompt_edit(args, plan, root)
        profile = ModelProfile(load_seconds=args.load_seconds, request_seconds=args.request_seconds, token_seconds=0.0)
        config = SimulatorConfig(default_profile=profile, parallel=args.slots, max_loaded_models=1)
        with start_simulator(config, port=0) as sim:
            if "history" in args.parts and args.history:
                result["history"] = history(args, sim, plan, root)
            if "backlog" in args.parts and args.backlog:
                result["backlog"] = backlog(args, sim, root)
    result["bench_seconds"] = time.perf_counter() - started
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result["load_average"] = [max(a, b) for a, b in zip(load_before, os.getloadavg(), strict=True)]
    result["cpus"] = os.cpu_count()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    (args.out_dir / "bench.md").write_text(text)
    print(text)
    return result


if __name__ == "__main__":
    main()
