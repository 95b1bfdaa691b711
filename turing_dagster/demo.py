"""`make demo`: init, load the sample postings, run the sample workflow, show where everything stands.

Uses the Ollama at OLLAMA_HOST; when none answers there, starts the bundled Ollama SIMULATOR in
this process (a stand-in that gives deterministic, plausible answers; no model runs) and says so.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import click

from turing_dagster import settings
from turing_dagster.cli import main as cli_main

SAMPLE = settings.PROJECT_ROOT / "turing_dagster" / "sample_data" / "postings.jsonl"
WORKFLOW = "job_posting_pipeline"


def ollama_answers(host: str) -> bool:
    from turing_dagster.ollama.pool import HostPool, PoolConfig  # imports the client safely (see ollama/)

    try:
        HostPool(PoolConfig(host=host, control_timeout_seconds=2, max_attempts=1)).control_client(host).ps()
        return True
    except Exception:
        return False


def _turing(*args: str) -> None:
    click.secho(f"\n$ turing {' '.join(args)}", bold=True)
    try:
        cli_main(list(args))
    except SystemExit as exc:
        if exc.code:
            raise


def main() -> None:
    problem = settings.ollama_host_problem()
    if problem:
        raise SystemExit(f"error: {problem}")
    host = settings.ollama_hosts()[0]
    with ExitStack() as stack:
        if ollama_answers(host):
            click.echo(f"using Ollama at {host}")
        else:
            from turing_dagster.simulator import SimulatorConfig, start_simulator

            # room for the sample's three models at once, as on a 24 GB GPU: each loads once
            config = SimulatorConfig(max_loaded_models=3)
            sim = stack.enter_context(start_simulator(config, host="127.0.0.1", port=0))
            os.environ["OLLAMA_HOST"] = sim.url
            os.environ.pop("TURING_OLLAMA_HOSTS", None)  # it would win over OLLAMA_HOST
            click.secho(
                f"no Ollama answered at {host}: using the bundled Ollama SIMULATOR at {sim.url} "
                "(a stand-in for the GPU server with deterministic canned answers, room for 3 models; no model runs)",
                fg="yellow",
            )
        _turing("init")
        _turing("postings", "load", str(SAMPLE))
        _turing("run", WORKFLOW, "--wave-size", "100")  # three waves, run as one range
        _turing("status", WORKFLOW)
        try:
            _turing("report", WORKFLOW)  # the GPU timeline of the latest run: residency and chats per host
        except SystemExit:  # e.g. DAGSTER_HOME emptied while the store says all is done: no run to draw
            click.echo("no GPU timeline: no run of the workflow in DAGSTER_HOME")
    click.echo(
        f"\nThe Dagster UI with these runs: `make ui`, or `{settings.ui_command()}` "
        "(http://localhost:3000); the PNG above is the run's GPU timeline, also on each asset's materialization "
        "(gpu_timeline)"
    )


if __name__ == "__main__":
    main()
