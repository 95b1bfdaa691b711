"""`turing run WORKFLOW`."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
import threading
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from turing_dagster import settings
from turing_dagster.cli.common import find_workflow, ready_engine
from turing_dagster.cli.plan_cmd import run_preview
from turing_dagster.settings import ui_command
from turing_dagster.steps.held import Held
from turing_dagster.store.engine import first_line
from turing_dagster.store.reads import failures_in
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.standing import Scope
from turing_dagster.workflows.actors import actor_errors
from turing_dagster.workflows.loader import WorkflowValidationError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from turing_dagster.dagster_defs.runner import RunReport
    from turing_dagster.workflows.spec import Workflow

# the loser of two runs started together: nothing failed, but this command did not do the work
EXIT_BUSY = 3
_WAVE = re.compile(r"\bwave (\S+) ")


def _summary(report: RunReport) -> Table:
    table = Table(title="per step (this command's runs)")
    for column in ("step", "completed", "skipped", "failed", "calls", "reused", "model loads", "load s", "step s",
                   "tokens out"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for name, s in sorted(report.steps.items()):
        table.add_row(
            name,
            *(str(int(s.get(k, 0))) for k in ("completed", "skipped", "failed", "calls", "reused", "loads")),
            f"{s.get('load_seconds', 0):.1f}",
            f"{s.get('seconds', 0):.1f}",
            str(int(s.get("tokens_out", 0))),
        )
    return table


def _on_sigterm(_signum, _frame) -> None:
    # SIGTERM (systemd, docker stop, kill) ends the run as Ctrl-C does: Dagster stops the step and
    # records the run as failed, instead of the process vanishing with the run left STARTED
    raise KeyboardInterrupt


def bound_malloc_arenas(arenas: int = 2) -> None:
    """Two glibc malloc arenas, as MALLOC_ARENA_MAX=2 does (an explicit MALLOC_ARENA_MAX wins).

    glibc gives threads that allocate arenas of their own (up to 8 per core); the model calls' threads
    then keep freed memory in each, and a range run's peak RSS grew with its length: 1.31x from 10k
    to 50k postings of backlog, 1.12x with two arenas (bench/suite.py --only backlog).
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX; before the run starts any thread
    except (OSError, AttributeError):
        pass  # not glibc (musl, ...): nothing to bound


@click.command()
@click.argument("workflow")
@click.option("--wave-size", default=1000, show_default=True, type=click.IntRange(min=1), help="Most postings per wave.")
@click.option("--retry-failed", is_flag=True,
              help="Also retry postings whose step failed for the posting (invalid output, an actor's exception).")
@click.option("--stale", is_flag=True,
              help="Also re-process results made under an earlier definition, reusing every stored answer.")
@click.option("--verbose", "-v", is_flag=True, help="Show Dagster's event log on the console (failures are always summarised).")
def run(workflow: str, wave_size: int, retry_failed: bool, stale: bool, verbose: bool) -> None:
    """Admit all pending postings of WORKFLOW into waves and materialize them now, in this process.

    New postings and failures the server caused are processed; results made under an earlier definition
    only with --stale. The runs are recorded in DAGSTER_HOME (`dagster dev` shows them). Per-posting
    failures are counted and shown; the exit code is 1 when a run fails, 3 when another run holds the
    waves, 130 when interrupted (Ctrl-C or SIGTERM; committed chunks are kept).
    """
    bound_malloc_arenas()
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        report, spec, engine, root = _run(workflow, wave_size, Scope(stale=stale, failed=retry_failed), verbose)
    except KeyboardInterrupt:
        # chunks are transactions: what was committed stays, the chunk in flight was never written
        click.echo(f"interrupted: {workflow} stopped; committed results are kept and "
                   f"`turing run {workflow}` continues from there", err=True)
        raise SystemExit(130) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    _report(report, spec, engine, root)


def _run(workflow: str, wave_size: int, scope: Scope, verbose: bool):
    # Dagster only here: `turing --help` and the store commands start without it
    from turing_dagster.dagster_defs.instance import dagster_instance
    from turing_dagster.dagster_defs.runner import run_workflow
    from turing_dagster.definitions import build_definitions

    spec = find_workflow(workflow)
    if not all(c.is_python for c in spec.conversations):
        settings.workflow_hosts(spec.name)  # a malformed host list is one line before any wave is admitted
    if broken := actor_errors(spec):  # so is an actor that cannot be imported
        raise WorkflowValidationError(broken)
    engine = ready_engine()
    job = build_definitions().resolve_job_def(spec.name)
    instance = dagster_instance()
    echo = _console().print

    def before(waves: list[str]) -> None:  # what the runs will cost, before they spend it
        echo(run_preview(engine, spec, scope, waves)[0].line())

    report = run_workflow(
        engine, spec, job, instance, wave_size, echo=echo, log_level="INFO" if verbose else "CRITICAL",
        scope=scope, before=before,
    )
    return report, spec, engine, instance.root_directory


def _console() -> Console:
    # soft_wrap: a line naming a command is never broken, so it pastes whole
    return Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)


def _report(report: RunReport, spec: Workflow, engine: sa.Engine, root: str) -> None:
    console = _console()
    if not report.ranges and not report.busy:
        console.print(f"nothing pending for {spec.name}: no LLM calls made")
    if report.steps:  # a table of zeros before an error line says nothing
        console.print(_summary(report))
    failed = sum(int(s.get("failed", 0)) for s in report.steps.values())
    if failed:
        console.print(f"{failed} posting step(s) failed: see `turing status {spec.name}`")
        shown, total = with_reconnect(lambda: failures_in(engine, spec.workflow_id, report.ranges),
                                      "reading failures", on_retry=lambda line: click.echo(f"warning: {line}", err=True))
        for posting_id, conversation, error in shown:  # one line per posting: what failed, where, why
            console.print(f"failed: posting {posting_id} at {conversation}: {first_line(error or 'no reason recorded')}")
        if total > len(shown):
            console.print(f"... and {total - len(shown)} more: `turing status {spec.name} --posting ID` shows one")
    for line in Held(report.held, report.retried).lines(spec.name):
        console.print(line)
    if report.stale and not report.scope.stale:
        console.print(f"{report.stale} posting(s) have results made under an earlier definition (stale): "
                      f"`turing plan {spec.name}` shows what re-processing costs, `turing run {spec.name} --stale` does it")
    if report.run_ids:
        console.print(f"runs recorded in {root}: `{ui_command(root)}` shows them")
    if report.failures:
        for line in report.failures:
            click.echo(f"error: {line}", err=True)
        raise SystemExit(1)
    if report.busy or report.busy_runs:
        # the claim refused at the step names the wave and its holder; the wave is what the user needs
        waves = ", ".join(report.busy) or ", ".join(sorted({m for line in report.busy_runs for m in _WAVE.findall(line)}))
        click.echo(f"error: another run is processing {spec.name} ({waves}): run again when it is done", err=True)
        raise SystemExit(EXIT_BUSY)
