"""`turing run WORKFLOW`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from turing_dagster.cli.common import find_workflow, ready_engine

if TYPE_CHECKING:
    from turing_dagster.dagster_defs.runner import RunReport


def _summary(report: RunReport) -> Table:
    table = Table(title="per step (this command's runs)")
    for column in ("step", "completed", "skipped", "failed", "model loads", "load s", "step s", "tokens out"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for name, s in sorted(report.steps.items()):
        table.add_row(
            name,
            *(str(int(s.get(k, 0))) for k in ("completed", "skipped", "failed", "loads")),
            f"{s.get('load_seconds', 0):.1f}",
            f"{s.get('seconds', 0):.1f}",
            str(int(s.get("tokens_out", 0))),
        )
    return table


@click.command()
@click.argument("workflow")
@click.option("--wave-size", default=1000, show_default=True, type=click.IntRange(min=1), help="Most postings per wave.")
@click.option("--retry-failed", is_flag=True, help="Also rerun waves whose postings failed a step, retrying those steps.")
@click.option("--verbose", "-v", is_flag=True, help="Show Dagster's event log on the console (failures are always summarised).")
def run(workflow: str, wave_size: int, retry_failed: bool, verbose: bool) -> None:
    """Admit all pending postings of WORKFLOW into waves and materialize them now, in this process.

    The runs are recorded in DAGSTER_HOME (visible in `dagster dev`). Per-posting failures are
    counted and shown; the exit code is non-zero only when a run fails.
    """
    # Dagster only here: `turing --help` and the store commands start without it
    from turing_dagster.dagster_defs.runner import dagster_instance, run_workflow
    from turing_dagster.definitions import build_definitions

    spec = find_workflow(workflow)
    engine = ready_engine()
    job = build_definitions().resolve_job_def(spec.name)
    instance = dagster_instance()
    console = Console(width=None if sys.stdout.isatty() else 120)
    report = run_workflow(
        engine, spec, job, instance, wave_size, echo=console.print, log_level="INFO" if verbose else "CRITICAL",
        retry_failed=retry_failed,
    )
    if not report.ranges:
        if report.busy:
            console.print(f"{len(report.busy)} wave(s) are being processed by another run: run again when it is done")
        else:
            console.print(f"nothing pending for {spec.name}: no LLM calls made")
        return
    console.print(_summary(report))
    failed = sum(int(s.get("failed", 0)) for s in report.steps.values())
    if failed:
        console.print(f"{failed} posting step(s) failed: see `turing status {spec.name}`")
    console.print(f"runs recorded in {instance.root_directory}: `dagster dev -w workspace.yaml` shows them")
    if not report.ok:
        for line in report.failures:
            click.echo(f"error: {line}", err=True)
        raise SystemExit(1)
