"""`turing report WORKFLOW`: the GPU timeline of a run, drawn from the engine's own call records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from turing_dagster.cli.common import find_workflow, ready_engine

if TYPE_CHECKING:
    import dagster as dg


def _find_run(instance: dg.DagsterInstance, job: str, run_id: str | None) -> dg.DagsterRun:
    import dagster as dg

    if run_id is None:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=job), limit=1)
        if not runs:
            raise click.ClickException(f"no run of {job} in DAGSTER_HOME={instance.root_directory}: `turing run {job}` first")
        return runs[0]
    run = instance.get_run_by_id(run_id) if len(run_id) == 36 else None
    if run is None:  # the UI shows the first 8 characters: accept any unambiguous prefix of this job's runs
        matches = [r for r in instance.get_runs(filters=dg.RunsFilter(job_name=job)) if r.run_id.startswith(run_id)]
        if len(matches) > 1:
            raise click.ClickException(f"--run {run_id} matches {len(matches)} runs of {job}: give more characters")
        run = matches[0] if matches else None
    if run is None:
        raise click.ClickException(f"--run {run_id}: no such run of {job} in DAGSTER_HOME={instance.root_directory}")
    if run.job_name != job:
        raise click.ClickException(f"--run {run_id} is a run of {run.job_name}, not of {job}")
    return run


@click.command()
@click.argument("workflow")
@click.option("--run", "run_id", metavar="RUN_ID", help="A run id or its first characters; default: the latest run.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG to write; default: $DAGSTER_HOME/turing/reports/RUN_ID.png, the file the run's assets link to.",
)
def report(workflow: str, run_id: str | None, out: Path | None) -> None:
    """Draw the GPU timeline of a run of WORKFLOW as a PNG.

    Per Ollama host: which model was loading, resident and unloaded when, how many chats were in
    flight, and where each step began; built from the calls each step of the run recorded.
    """
    if out is not None and out.suffix.lower() != ".png":
        raise click.BadParameter(f"{out} does not end in .png", param_hint="--out")
    # Dagster only here: the runs live in the Dagster instance
    from turing_dagster.dagster_defs.gpu_timeline import report_path, run_events, timeline_title, write_report
    from turing_dagster.dagster_defs.instance import dagster_instance
    from turing_dagster.report.timeline import from_events
    from turing_dagster.workflows.plan import WorkflowPlan

    spec = find_workflow(workflow)
    engine = ready_engine()
    instance = dagster_instance()
    run = _find_run(instance, spec.name, run_id)
    events = run_events(engine, WorkflowPlan(spec), run.run_id)
    if not events:
        raise click.ClickException(
            f"run {run.run_id} of {spec.name} recorded no step timings (it did no step, or predates the GPU timeline)"
        )
    try:
        path = out or report_path(instance, run.run_id)
        write_report(from_events(events), path, timeline_title(spec.name, run))
    except OSError as exc:
        raise click.ClickException(f"cannot write {out or 'the report'}: {exc.strerror or exc}") from None
    calls = sum(len(e["calls"]) for e in events)
    click.echo(f"GPU timeline of run {run.run_id} ({run.status.value.lower()}, {calls} Ollama calls): {path}")
