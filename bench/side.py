"""The side-by-side parts of `make bench` (bench/suite.py): Turing beside the bare client loop and Dagster's
floor at each latency (slot use, Turing's own seconds), and beside the orderings it replaced.

Every Turing run is `turing run` in a child process on a store and Dagster home of its own (fresh: nothing
is answered from an earlier run's stored answers), against a simulator of its latency setting, reset
before the run. The bare loop replays that run's chat calls (bench/bare_loop.py); Dagster's floor is
bench/floor.py on a fresh instance of its own, measured in the same invocation.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from bench import harness as h


def pg_url() -> str | None:
    return os.environ.get("TURING_BENCH_DATABASE_URL") or os.environ.get("TURING_TEST_DATABASE_URL")


def simulator(load_seconds: float, request_seconds: float, slots: int):
    from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator

    profile = ModelProfile(load_seconds=load_seconds, request_seconds=request_seconds, token_seconds=0.0)
    return start_simulator(SimulatorConfig(default_profile=profile, parallel=slots, max_loaded_models=1), port=0)


def turing_row(name: str, sim, tmp: Path, postings: Path, url: str | None, slots: int = 4,
               request_seconds: float | None = None) -> tuple[dict, list]:
    """`turing run` over `postings` on a fresh store (a server database: its tables dropped first)."""
    if url:
        h.reset_database(url)
    env = h.environment(tmp, sim.url, url)
    h.turing(["init"], env)
    h.turing(["postings", "load", str(postings)], env)
    sim.reset()
    run = h.turing(["run", h.WORKFLOW], env)
    timeline = sim.timeline()
    calls = h.chat_calls(sim)
    rows = h.checkpoint_rows(env["TURING_DATABASE_URL"])
    row = {
        "name": name, "wall": run.seconds, "cpu": run.cpu_seconds, "peak_rss_mb": run.peak_rss_mb,
        "checkpoint_rows": rows, "checkpoint_rows_per_s": rows / run.seconds,
        "dagster_event_rows": h.dagster_event_rows(Path(env["DAGSTER_HOME"])),
        "distinct_requests": len({h.request_text(c) for c in calls}),
        **h.timeline_summary(timeline, run.seconds), **h.slot_use(timeline, slots, request_seconds),
    }
    return row, calls


def child_row(name: str, sim, args: list[str], env: dict, slots: int = 4, request_seconds: float | None = None) -> dict:
    """A baseline in a child process; `work` is its own seconds when it prints them (the bare loop)."""
    sim.reset()
    run = h.run_measured(args, env)
    if run.returncode:
        raise RuntimeError(f"{name} failed:\n{run.stdout[-3000:]}")
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    work = json.loads(last)["seconds"] if last.startswith("{") else None
    timeline = sim.timeline()
    return {"name": name, "wall": run.seconds, "work": work, "cpu": run.cpu_seconds, "peak_rss_mb": run.peak_rss_mb,
            "checkpoint_rows": None, "checkpoint_rows_per_s": None, "dagster_event_rows": None,
            **h.timeline_summary(timeline, run.seconds), **h.slot_use(timeline, slots, request_seconds)}


def bare_row(sim, calls: list[dict], root: Path, slots: int, request_seconds: float | None = None) -> dict:
    path = root / "calls.json"
    path.write_text(json.dumps(calls))
    return child_row("bare client loop", sim, ["bench/bare_loop.py", str(path), "--host", sim.url, "--slots", str(slots)],
                     h.environment(root / "baselines", sim.url), slots, request_seconds)


def floor_row(tmp: Path, assets: int) -> dict:
    """Dagster's floor in a fresh process on a fresh instance (its storage created first, untimed)."""
    env = h.environment(tmp, "http://127.0.0.1:9")  # no Ollama: the floor asks none
    for prepare in (True, False):
        run = h.run_measured(["bench/floor.py", "--assets", str(assets), *(["--prepare"] if prepare else [])], env)
        if run.returncode:
            raise RuntimeError(f"Dagster floor failed:\n{run.stdout[-3000:]}")
    return {"name": "Dagster floor", "wall": run.seconds, "cpu": run.cpu_seconds, "peak_rss_mb": run.peak_rss_mb,
            "assets": assets, "dagster_event_rows": h.dagster_event_rows(tmp / "dagster_home")}


def ideal_row(plan, calls: list[dict], load_seconds: float, request_seconds: float, slots: int) -> dict:
    used = {c["model"].split(":latest")[0] for c in calls}
    models = [s.model for s in plan.steps if s.model and s.model.split(":latest")[0] in used]
    loads = sum(1 for i, m in enumerate(models) if i == 0 or models[i - 1] != m)  # plan minimum
    wall = load_seconds * loads + len(calls) * request_seconds / slots
    return {"name": "ideal", "wall": wall, "loads": loads, "requests": len(calls), "gpu_busy": 1.0, "slot_use": 1.0}


def _summary(turing: dict, bare: dict, floor: dict) -> dict:
    """Turing's own seconds beyond the bare loop's work and Dagster's floor, and slot use beside the bare loop's."""
    own = turing["wall"] - bare["work"] - floor["wall"]
    def ratio(key: str) -> float | None:
        return turing[key] / bare[key] if turing.get(key) and bare.get(key) else None

    return {"turing_wall": turing["wall"], "bare_seconds": bare["work"], "floor_seconds": floor["wall"],
            "own_seconds": own, "slot_use_turing": turing["slot_use"], "slot_use_bare": bare["slot_use"],
            "slot_use_ratio": ratio("slot_use"), "slot_use_nominal_turing": turing["slot_use_nominal"],
            "slot_use_nominal_bare": bare["slot_use_nominal"], "slot_use_nominal_ratio": ratio("slot_use_nominal")}


def paired(rounds: list[dict]) -> dict:
    """Each round's slot-use ratio and own seconds from that round's own Turing run, bare loop and floor (run
    one after another), and their medians: a machine that slows down between rounds moves both sides of a
    round's ratio, while the fastest of each side may come from different rounds."""
    each = [_summary(r["turing"], r["bare"], r["floor"]) for r in rounds]
    ratios = [e["slot_use_ratio"] for e in each if e["slot_use_ratio"] is not None]
    own = [e["own_seconds"] for e in each]
    return {"slot_use_ratio": ratios, "own_seconds": own,
            "median_slot_use_ratio": statistics.median(ratios) if ratios else None,
            "median_own_seconds": statistics.median(own)}


def latency(args, plan, request_seconds: float, n: int, root: Path) -> dict:
    """One latency setting: `args.repeat` rounds of Turing (SQLite), the bare loop and the floor, the fastest
    of each kept (the least disturbed on a shared machine) and each round's own ratios (`paired`);
    PostgreSQL once, when a database is given."""
    tag = f"{round(request_seconds * 1000)}ms"
    postings = h.postings_file(root / tag, n, prefix="s")
    rounds = []
    with simulator(args.load_seconds, request_seconds, args.slots) as sim:
        for r in range(max(1, args.repeat)):
            turing, calls = turing_row("turing (sqlite)", sim, root / tag / f"sqlite_{r}", postings, None, args.slots,
                                       request_seconds)
            bare = bare_row(sim, calls, root / tag, args.slots, request_seconds)
            floor = floor_row(root / tag / f"floor_{r}", args.floor_assets)
            rounds.append({"turing": turing, "bare": bare, "floor": floor})
        url = pg_url()
        pg = turing_row("turing (postgresql)", sim, root / tag / "pg", postings, url, args.slots, request_seconds)[0] \
            if url else None
    turing = min((r["turing"] for r in rounds), key=lambda x: x["wall"])
    bare = min((r["bare"] for r in rounds), key=lambda x: x["work"])
    floor = min((r["floor"] for r in rounds), key=lambda x: x["wall"])
    ideal = ideal_row(plan, calls, args.load_seconds, request_seconds, args.slots)
    return {
        "request_seconds": request_seconds, "postings": n, "llm_calls": len(calls), "repeat": len(rounds),
        "rounds": rounds, "ideal": ideal,
        "sqlite": _summary(turing, bare, floor), "paired": paired(rounds),
        "postgresql": _summary(pg, bare, floor) if pg else None,
        "rows": [turing, *([pg] if pg else []), bare, floor, ideal],
    }


def order(args, plan, root: Path) -> dict:
    """Turing beside the naive loop, the old grouping, the bare loop and the ideal, on `args.postings`."""
    postings = h.postings_file(root / "order", args.postings, prefix="o")
    with simulator(args.load_seconds, args.request_seconds, args.slots) as sim:
        turing, calls = turing_row("turing (sqlite)", sim, root / "order" / "sqlite", postings, None, args.slots)
        env = h.environment(root / "order" / "baselines", sim.url)
        naive = child_row("naive loop", sim, ["bench/baselines.py", "naive", str(postings), "--host", sim.url], env)
        grouped = child_row("old grouping", sim, ["bench/baselines.py", "grouped", str(postings), "--host", sim.url,
                                                  "--slots", str(args.slots)], env)
        bare = bare_row(sim, calls, root / "order", args.slots)
    ideal = ideal_row(plan, calls, args.load_seconds, args.request_seconds, args.slots)
    rows = [turing, naive, grouped, bare, ideal]
    for r in rows:
        r["wall_over_ideal"] = r["wall"] / ideal["wall"]
        r["wall_over_bare"] = r["wall"] / bare["wall"]
    return {"postings": args.postings, "llm_calls": len(calls), "request_seconds": args.request_seconds, "rows": rows}
