"""Turing's overhead over the bare client, alone: `turing run` beside the bare `ollama`-client loop replaying
its calls, on one simulator, repeated; wall/bare from each round and the processes' own CPU seconds.

The `wall/bare` column of `bench/suite.py --only side` without the naive loop and the old grouping (a
minute of the budget), at two sizes, so that the fixed cost (start-up, Dagster's run and asset events, the QA
checks, the GPU timeline) and the cost per call can be told apart:

    cpu(turing) - cpu(bare) = fixed + per_call x calls   (least squares over the sizes and rounds)

    python bench/overhead.py [--postings 50,200] [--rounds 2] [--pg]   # --pg: also PostgreSQL (TURING_BENCH_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h  # noqa: E402
from bench.side import child_row, pg_url, turing_row  # noqa: E402


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(fixed, per call) of extra CPU seconds over calls, least squares; (mean, 0) with one size."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0
    return my - slope * mx, slope


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=lambda t: [int(x) for x in t.split(",") if x], default=[50, 200])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg", action="store_true", help="also Turing on PostgreSQL (TURING_BENCH_DATABASE_URL)")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator

    profile = ModelProfile(load_seconds=0.05, request_seconds=0.01, token_seconds=0.0)
    config = SimulatorConfig(default_profile=profile, parallel=4, max_loaded_models=1)
    stores = [("sqlite", None)] + ([("postgresql", pg_url())] if args.pg and pg_url() else [])
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="turing-overhead-") as tmp, start_simulator(config, port=0) as sim:
        root = Path(tmp)
        for n in args.postings:
            postings = h.postings_file(root, n)
            for r in range(args.rounds):
                for store, url in stores:
                    row, calls = turing_row(f"turing ({store})", sim, root / f"{store}_{n}_{r}", postings, url)
                    (root / "calls.json").write_text(json.dumps(calls))
                    bare = child_row("bare client loop", sim, ["bench/bare_loop.py", str(root / "calls.json"),
                                                               "--host", sim.url, "--slots", "4"],
                                     h.environment(root / "baselines", sim.url))
                    rows.append({"store": store, "postings": n, "round": r, "calls": len(calls),
                                 "wall": row["wall"], "cpu": row["cpu"], "bare_wall": bare["wall"],
                                 "bare_cpu": bare["cpu"], "wall_over_bare": row["wall"] / bare["wall"],
                                 "dagster_event_rows": row["dagster_event_rows"], "load": os.getloadavg()[0]})
                    print("{store} {postings} postings, {calls} calls, round {round}: wall {wall:.2f} s, bare "
                          "{bare_wall:.2f} s, wall/bare {wall_over_bare:.2f}; CPU {cpu:.2f} s, bare {bare_cpu:.2f} s; "
                          "{dagster_event_rows} Dagster event rows; load {load:.1f}".format(**rows[-1]), flush=True)
    for store, _ in stores:
        mine = [r for r in rows if r["store"] == store]
        fixed, per_call = fit([(r["calls"], r["cpu"] - r["bare_cpu"]) for r in mine])
        print(f"{store}: CPU over the bare loop = {fixed:.2f} s fixed + {per_call * 1000:.2f} ms per call")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    return {"rows": rows}


if __name__ == "__main__":
    main()
