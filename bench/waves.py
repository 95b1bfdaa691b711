"""Benchmark: the same postings through job_posting_pipeline as one wave vs one wave per posting.

Against the Ollama SIMULATOR (a stand-in: load 0.5 s per model, 30 ms per request, 4 slots), with a
real Dagster instance and SQLite store in a temporary folder. One wave per posting is what a trickle
costs without batching (and roughly what the old scattered processing cost): every run loads every
model again. It prints and writes the measured ratios; targets: wave loads == plan minimum (5), and
one wave faster than per-posting waves. A measurement, not a test: exits 0 unless it crashes.

    .venv/bin/python bench/waves.py [--postings 24] [--out bench/results/waves.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_SECONDS, REQUEST_SECONDS = 0.5, 0.03


def measure(n: int, one_wave: bool, sim_url: str, sim) -> dict:
    import dagster as dg

    from turing_dagster.dagster_defs.runner import run_workflow
    from turing_dagster.definitions import build_definitions
    from turing_dagster.store.engine import dispose_all, get_engine
    from turing_dagster.store.migrate import upgrade
    from turing_dagster.store.postings import read_postings_file, upsert_postings
    from turing_dagster.store.waves import admit
    from turing_dagster.workflows.loader import load_workflows

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TURING_DATABASE_URL"] = f"sqlite:///{tmp}/b.db"
        os.environ["OLLAMA_HOST"] = sim_url
        engine = get_engine()
        upgrade(engine)
        sample = read_postings_file(ROOT / "turing_dagster" / "sample_data" / "postings.jsonl")
        usable = [r for r in sample if len((r.get("job_description") or "").strip()) > 200][:n]
        upsert_postings(engine, usable)
        workflow = next(w for w in load_workflows() if w.name == "job_posting_pipeline")
        job = build_definitions().resolve_job_def(workflow.name)
        sim.reset()
        with dg.instance_for_test(temp_dir=tmp) as instance:
            started = time.perf_counter()
            if one_wave:
                run_workflow(engine, workflow, job, instance, wave_size=n, echo=lambda _: None)
            else:
                keys = [w.key for w in admit(engine, workflow.workflow_id, 1)]
                instance.add_dynamic_partitions("job_posting_pipeline_waves", keys)
                for key in keys:  # a run per wave, as the sensor does for a trickle
                    job.execute_in_process(
                        instance=instance, partition_key=key,
                        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                    )
            seconds = time.perf_counter() - started
        counts = sim.timeline()["counts"]
        dispose_all()
    return {"seconds": round(seconds, 2), "loads": sum(counts["loads"].values()), "requests": sum(counts["requests"].values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=24)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "waves.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator

    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=LOAD_SECONDS, request_seconds=REQUEST_SECONDS), parallel=4)
    with start_simulator(config, port=0) as sim:
        wave = measure(args.postings, True, sim.url, sim)
        per_posting = measure(args.postings, False, sim.url, sim)
    result = {
        "benchmark": "waves",
        "server": "turing Ollama simulator (stand-in)",
        "postings": args.postings,
        "simulated_load_seconds": LOAD_SECONDS,
        "simulated_request_seconds": REQUEST_SECONDS,
        "one_wave": wave,
        "wave_per_posting": per_posting,
        "load_ratio": round(per_posting["loads"] / max(wave["loads"], 1), 1),
        "time_ratio": round(per_posting["seconds"] / wave["seconds"], 1),
        "targets": {"one_wave_loads": "== 5 (plan minimum)", "time_ratio": "> 1"},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
