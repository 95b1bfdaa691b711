"""Benchmark: one ModelSession of 200 requests against the Ollama SIMULATOR (a stand-in, not a real model).

The simulator loads the model in 1 s and answers a request in 50 ms with 4 parallel slots; the session
runs with slots_per_host=4. The ideal wall time is one load plus the requests spread over the slots:
expected = 1 + 200 x 0.05 / 4 = 3.5 s. The ratio measured/expected shows the session's overhead
(model checks, bounded submission, HTTP). It is a measurement, not a test: it exits 0 unless it crashes.

    .venv/bin/python bench/model_session.py [--out bench/results/model_session.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from turing_dagster.dagster_defs.resources import OllamaModels
from turing_dagster.ollama.types import LLMRequest
from turing_dagster.simulator import FaultConfig, ModelProfile, SimulatorConfig, start_simulator

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gemma3:4b"
LOAD_SECONDS = 1.0
REQUEST_SECONDS = 0.05
PARALLEL = 4
SLOTS_PER_HOST = 4
TARGET_RATIO = 1.10


def run(n_requests: int) -> dict:
    profile = ModelProfile(load_seconds=LOAD_SECONDS, request_seconds=REQUEST_SECONDS, token_seconds=0.0)
    config = SimulatorConfig(
        models={MODEL: profile}, parallel=PARALLEL, max_loaded_models=1, max_queue=512, faults=FaultConfig()
    )
    requests = [
        LLMRequest(
            key=f"b{i:04d}",
            messages=[
                {"role": "system", "content": "You summarise job postings."},
                {"role": "user", "content": f"Summarise posting b{i:04d}: a data engineer role in Zurich."},
            ],
        )
        for i in range(n_requests)
    ]
    with start_simulator(config, port=0) as sim:
        models = OllamaModels(host=sim.url, slots_per_host=SLOTS_PER_HOST)
        started = time.perf_counter()
        session = models.session(MODEL, {"temperature": 0})
        results = list(session.run(requests))
        measured = time.perf_counter() - started
        session.finish(next_model=None)
        timeline = sim.timeline()
    expected = LOAD_SECONDS + n_requests * REQUEST_SECONDS / min(PARALLEL, SLOTS_PER_HOST)
    stats = session.stats
    return {
        "benchmark": "model_session",
        "server": "turing Ollama simulator (stand-in)",
        "model": MODEL,
        "requests": n_requests,
        "load_seconds_configured": LOAD_SECONDS,
        "request_seconds_configured": REQUEST_SECONDS,
        "parallel": PARALLEL,
        "slots_per_host": SLOTS_PER_HOST,
        "measured_seconds": round(measured, 4),
        "expected_seconds": round(expected, 4),
        "ratio": round(measured / expected, 4),
        "target": f"ratio <= {TARGET_RATIO:.2f}",
        "met": measured / expected <= TARGET_RATIO,
        "loads": timeline["counts"]["loads"],
        "max_in_flight": timeline["max_in_flight"],
        "completed": sum(r.error is None for r in results),
        "failures": sum(r.error is not None for r in results),
        "session": stats.to_metadata(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_session.json")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)

    report = run(args.requests)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"model_session: {report['requests']} requests in {report['measured_seconds']:.2f} s, "
        f"expected {report['expected_seconds']:.2f} s, ratio {report['ratio']:.3f} ({report['target']}: "
        f"{'met' if report['met'] else 'NOT met'}); loads {report['loads']}, "
        f"max in flight {report['max_in_flight']}; written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
