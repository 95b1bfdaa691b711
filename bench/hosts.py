"""Benchmark: a workflow's steps shared across Ollama hosts, against Ollama SIMULATOR hosts (stand-ins).

Each simulated host loads a model in 0.5 s, answers a chat in 100 ms, runs 4 at once and holds one
model. A two-step workflow (gemma3:4b then qwen2.5) on N postings runs through `OllamaModels`
sessions exactly as a step does (run the step's requests, then `finish(next_model)`), once with one
host and once with two, in pairs (median ratio of `--repeat` pairs). Targets (issue 10): wall with two hosts <= 0.60x wall with one; no host above
65% of the calls; loads per host the plan minimum (one per step here). A measurement, not a test: it
exits 0 unless it crashes.

The same comparison for `turing run`'s path (the sample workflow through its Dagster job, SQLite store,
`TURING_OLLAMA_HOSTS`) follows, once per host count.

    .venv/bin/python bench/hosts.py [--postings 150] [--workflow-postings 150] [--out bench/results/hosts.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from turing_dagster.dagster_defs.resources import OllamaModels
from turing_dagster.ollama.types import LLMRequest

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("gemma3:4b", "qwen2.5")
LOAD_SECONDS = 0.5
REQUEST_SECONDS = 0.1
PARALLEL = 4
SLOTS_PER_HOST = 4


def requests(step: int, n: int) -> list[LLMRequest]:
    return [
        LLMRequest(
            key=f"s{step}p{i:04d}",
            messages=[
                {"role": "system", "content": "You summarise job postings."},
                {"role": "user", "content": f"Summarise posting {i:04d}: a data engineer role in Zurich."},
            ],
        )
        for i in range(n)
    ]


@contextlib.contextmanager
def simulator_host(models: tuple[str, ...] = STEPS) -> Iterator[str]:
    """One simulator in its own process, as a real host is: the client's threads do not share its GIL."""
    cmd = [sys.executable, "-c", "from turing_dagster.cli import console_main; console_main()", "simulate-ollama", "--port", "0",
           *(["--models", ",".join(models)] if models else []), "--load-seconds", str(LOAD_SECONDS), "--request-seconds",
           str(REQUEST_SECONDS), "--parallel", str(PARALLEL), "--max-loaded-models", "1", "--max-queue", "1024"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OLLAMA_HOST", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "listening on " not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield line.rsplit("listening on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sim_get(url: str, path: str):
    return httpx.get(f"{url}/sim/{path}", timeout=10).json()


def run(n_hosts: int, postings: int) -> dict:
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(simulator_host()) for _ in range(n_hosts)]
        models = OllamaModels(host=",".join(urls), slots_per_host=SLOTS_PER_HOST)
        failures = 0
        started = time.perf_counter()
        for i, model in enumerate(STEPS):
            session = models.session(model)
            session.ensure_available()
            failures += sum(not r.ok for r in session.run(requests(i, postings)))
            session.finish(STEPS[i + 1] if i + 1 < len(STEPS) else None)
        wall = time.perf_counter() - started
        models.release()
        calls = {u: sum(1 for r in sim_get(u, "requests") if "messages" in r) for u in urls}
        loads = {u: sim_get(u, "timeline")["counts"]["loads"] for u in urls}
        records = models.drain_call_records()
    total = sum(calls.values())
    ideal = len(STEPS) * (LOAD_SECONDS + postings * REQUEST_SECONDS / (n_hosts * min(PARALLEL, SLOTS_PER_HOST)))
    return {
        "hosts": n_hosts,
        "wall_seconds": round(wall, 3),
        "ideal_seconds": round(ideal, 3),
        "calls_per_host": calls,
        "share_per_host": {h: round(c / total, 3) for h, c in calls.items()},
        "loads_per_host": loads,
        "failures": failures,
        "call_records": len(records),
    }


def run_workflow_on(n_hosts: int, postings: int) -> dict:
    """`turing run`'s path (run_workflow: Dagster job, SQLite store) on the sample workflow, one wave."""
    import dagster as dg

    from turing_dagster.dagster_defs.runner import run_workflow
    from turing_dagster.definitions import build_definitions
    from turing_dagster.store.engine import dispose_all, get_engine
    from turing_dagster.store.migrate import upgrade
    from turing_dagster.store.postings import read_postings_file, upsert_postings
    from turing_dagster.workflows.loader import load_workflows

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = [stack.enter_context(simulator_host(models=())) for _ in range(n_hosts)]
        os.environ["TURING_DATABASE_URL"] = f"sqlite:///{tmp}/b.db"
        os.environ["TURING_OLLAMA_HOSTS"] = ",".join(urls)
        engine = get_engine()
        upgrade(engine)
        sample = read_postings_file(ROOT / "turing_dagster" / "sample_data" / "postings.jsonl")
        upsert_postings(engine, sample[:postings])
        workflow = next(w for w in load_workflows() if w.name == "job_posting_pipeline")
        job = build_definitions().resolve_job_def(workflow.name)
        with dg.instance_for_test(temp_dir=tmp) as instance:
            started = time.perf_counter()
            report = run_workflow(engine, workflow, job, instance, wave_size=postings, echo=lambda _: None)
            wall = time.perf_counter() - started
        dispose_all()
        calls = {u: sum(1 for r in sim_get(u, "requests") if "messages" in r) for u in urls}
        loads = {u: sum(sim_get(u, "timeline")["counts"]["loads"].values()) for u in urls}
    total = sum(calls.values()) or 1
    return {"hosts": n_hosts, "ok": report.ok, "wall_seconds": round(wall, 3), "calls_per_host": calls,
            "share_per_host": {h: round(c / total, 3) for h, c in calls.items()}, "loads_per_host": loads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hosts.json")
    parser.add_argument("--postings", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs; the median ratio is reported")
    parser.add_argument("--workflow-postings", type=int, default=150,
                        help="also run the sample workflow (turing run's path) on this many postings; 0: skip")
    args = parser.parse_args(argv)

    pairs = []
    for _ in range(max(1, args.repeat)):  # the machine is shared: the median of several pairs, not one
        one, two = run(1, args.postings), run(2, args.postings)
        pairs.append((two["wall_seconds"] / one["wall_seconds"], one, two))
    pairs.sort(key=lambda p: p[0])
    ratio, one, two = pairs[len(pairs) // 2]
    top_share = max(two["share_per_host"].values())
    loads_ok = all(sum(v.values()) == len(STEPS) for v in two["loads_per_host"].values())
    workflow = {}
    if args.workflow_postings:
        one_wf, two_wf = run_workflow_on(1, args.workflow_postings), run_workflow_on(2, args.workflow_postings)
        workflow = {"postings": args.workflow_postings, "one_host": one_wf, "two_hosts": two_wf,
                    "wall_ratio_two_vs_one": round(two_wf["wall_seconds"] / one_wf["wall_seconds"], 3)}
    report = {
        "benchmark": "hosts",
        "server": "turing Ollama simulator hosts (stand-ins)",
        "steps": list(STEPS),
        "postings": args.postings,
        "load_seconds_configured": LOAD_SECONDS,
        "request_seconds_configured": REQUEST_SECONDS,
        "parallel": PARALLEL,
        "slots_per_host": SLOTS_PER_HOST,
        "ratios_of_all_pairs": [round(p[0], 3) for p in pairs],
        "one_host": one,
        "two_hosts": two,
        "wall_ratio_two_vs_one": round(ratio, 3),
        "max_share_two_hosts": top_share,
        "targets": {"wall_ratio <= 0.60": ratio <= 0.60, "max_share <= 0.65": top_share <= 0.65,
                    "loads per host = steps": loads_ok},
        "sample_workflow": workflow,
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    shares = ", ".join(f"{v:.0%}" for v in two["share_per_host"].values())
    print(
        f"hosts: {args.postings} postings x {len(STEPS)} steps: one host {one['wall_seconds']:.2f} s, "
        f"two hosts {two['wall_seconds']:.2f} s (median ratio {ratio:.2f} of {report['ratios_of_all_pairs']}, "
        f"target <= 0.60); shares {shares} "
        f"(target <= 65%); loads per host {[sum(v.values()) for v in two['loads_per_host'].values()]}; "
        f"written to {args.out}"
    )
    if workflow:
        wf_shares = ", ".join(f"{v:.0%}" for v in workflow["two_hosts"]["share_per_host"].values())
        print(
            f"hosts: sample workflow, {workflow['postings']} postings: one host "
            f"{workflow['one_host']['wall_seconds']:.2f} s, two hosts {workflow['two_hosts']['wall_seconds']:.2f} s "
            f"(ratio {workflow['wall_ratio_two_vs_one']:.2f}); shares {wf_shares}; loads per host "
            f"{list(workflow['two_hosts']['loads_per_host'].values())} (one host: "
            f"{list(workflow['one_host']['loads_per_host'].values())})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
