"""`turing plan WORKFLOW`: what a run would do, and what it would cost, without calling a model."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from turing_dagster import settings
from turing_dagster.cli.common import find_workflow, name_taken_note, ready_engine
from turing_dagster.steps.progress import progress, step_versions
from turing_dagster.store.answers import Answers
from turing_dagster.store.standing import Scope, assess_waves
from turing_dagster.store.waves import pending_batches, pending_summary
from turing_dagster.workflows.plan import WorkflowPlan

if TYPE_CHECKING:
    from turing_dagster.steps.preview import Preview


def run_preview(engine, spec, scope: Scope, waves: list[str] | None = None,
                not_admitted: int | None = None) -> tuple[Preview, list[str]]:
    """The preview of `scope` over `waves` (default: every wave with work for it, then the postings not in a
    wave yet, which a run admits first: `not_admitted` of them, when the caller counted them already), and
    notes on how the model digests were found."""
    # the ollama client and the step code only here: the other commands start without them
    from turing_dagster.ollama.pool import HostPool, PoolConfig
    from turing_dagster.steps.preview import known_digests, preview

    plan = WorkflowPlan(spec)
    unadmitted: Iterable[list[str]] = ()
    if waves is None:
        looked = assess_waves(engine, spec.workflow_id, step_versions(plan), scope)
        waves = [a.wave_key for a in looked if a.work]
        if (pending_summary(engine, spec.workflow_id)[0] if not_admitted is None else not_admitted):
            unadmitted = pending_batches(engine, spec.workflow_id, spec.waves.max_size)
    answers = Answers(engine)
    if not (waves or unadmitted) or not any(s.model for s in plan.steps):  # no request to key: no digests
        return preview(engine, plan, scope, answers, waves, {}, unadmitted), []
    # a short deadline and no retries: asking /api/tags calls no model, and a host that is down must not stall
    pool = HostPool(PoolConfig(hosts=tuple(settings.workflow_hosts(spec.name)), control_timeout_seconds=3,
                               connect_timeout_seconds=2, max_attempts=1))
    try:
        digests, notes = known_digests(plan, answers, pool)
    finally:
        pool.close()
    return preview(engine, plan, scope, answers, waves, digests, unadmitted), notes


@click.command("plan")
@click.argument("workflow")
@click.option("--new", "new_only", is_flag=True, help="Only what a plain `turing run` does: new postings and "
              "failures the server caused.")
@click.option("--retry-failed", is_flag=True, help="Also the postings whose step failed for the posting.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plan(workflow: str, new_only: bool, retry_failed: bool, as_json: bool) -> None:
    """What `turing run WORKFLOW --stale` would do, per step, without calling a model.

    Pending, stale and failed postings per step; the model calls needed (exact where the requests can be
    rendered from stored results, an upper bound after an answer not stored yet); the stored answers that
    would be reused; and the model time those calls would take at the throughput this model showed in
    earlier runs. --new shows a plain run instead.
    """
    spec = find_workflow(workflow)
    engine = ready_engine()
    name_taken_note(spec)
    scope = Scope() if new_only else Scope(stale=True, failed=retry_failed)
    standing = progress(engine, WorkflowPlan(spec))  # counts the postings not in a wave: one query, not two
    result, notes = run_preview(engine, spec, scope, not_admitted=standing.not_admitted)
    where = {s.step: s for s in standing.steps}
    for step in result.steps:
        counts = where[step.step]
        step.pending, step.stale, step.failed = counts.pending, counts.stale, counts.failed
    if result.steps:  # a run admits them first: new work at the first step
        result.steps[0].pending += standing.not_admitted
    if as_json:
        click.echo(json.dumps({"workflow": spec.name, "scope": scope.tag, "postings": result.postings,
                               "not_admitted": standing.not_admitted, "steps": [s.as_dict() for s in result.steps]},
                              indent=2))
        return
    for note in notes:
        click.echo(f"note: {note}", err=True)
    table = Table(title=f"{spec.name}: what `turing run {spec.name}{'' if new_only else ' --stale'}` would do")
    for column in ("step", "pending", "stale", "failed", "calls", "reused", "model s"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for s in result.steps:
        calls = f"{s.calls}" if s.calls_exact else f"<= {s.calls}"
        seconds = "-" if s.estimated_seconds is None else f"{s.estimated_seconds:.0f}"
        table.add_row(s.step, str(s.pending), str(s.stale), str(s.failed), calls, str(s.reusable), seconds)
    console = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)  # commands paste whole
    console.print(table)
    console.print(result.line())
    if standing.not_admitted:
        console.print(f"{standing.not_admitted} of them not in a wave yet: `turing run {spec.name}` admits them "
                      "first, pending at the first step")
