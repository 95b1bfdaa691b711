"""`turing status` and `turing monitor`."""

from __future__ import annotations

import json
import sys
import time

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from turing_dagster.cli.common import find_workflow, lookup_workflow, name_taken_note, ready_engine
from turing_dagster.steps.held import Held
from turing_dagster.steps.progress import Progress, progress
from turing_dagster.store.reads import trail
from turing_dagster.store.waves import load_postings
from turing_dagster.workflows.plan import WorkflowPlan


def _table(p: Progress) -> Group:
    table = Table(title=f"{p.workflow} ({p.workflow_id})")
    for column in ("order", "step", "actor", "completed", "skipped", "failed", "pending", "stale", "reused"):
        table.add_column(column, justify="left" if column in ("step", "actor") else "right")
    for s in p.steps:
        table.add_row(str(s.execution_order), s.step, s.actor,
                      *(str(n) for n in (s.completed, s.skipped, s.failed, s.pending, s.stale, s.reused)))
    totals = f"admitted {p.admitted}, finished {p.finished}, waiting for a wave {p.not_admitted}"
    return Group(table, totals)


def _why_no_trail(engine, posting_id: str, workflow: str) -> str:
    row = load_postings(engine, [posting_id]).get(posting_id)
    if row is None:
        return f"no posting {posting_id!r} (load it with `turing postings load`)"
    if not row["enabled"]:
        return f"posting {posting_id!r} is disabled, so {workflow} never admits it"
    return f"posting {posting_id!r} has no checkpoints in {workflow} yet"


@click.command()
@click.argument("workflow")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--posting", "posting_id", help="Show one posting's trail of checkpoints instead.")
def status(workflow: str, as_json: bool, posting_id: str | None) -> None:
    """Per conversation of WORKFLOW: completed, skipped, failed and pending postings.

    WORKFLOW is a name or a workflow_id; one whose file is gone, or that was retired, shows its
    history from the database, with its definition as last synced.
    """
    found = lookup_workflow(workflow)
    found.note()
    spec = found.workflow
    if not found.history_only:
        name_taken_note(spec)
    engine = ready_engine()
    if posting_id is not None:
        rows = trail(engine, spec.workflow_id, posting_id)
        if not rows:
            raise click.ClickException(_why_no_trail(engine, posting_id, spec.name))
        entries = [
            {
                "checkpoint_id": cp.checkpoint_id,
                "conversation": name,
                "status": cp.status,
                "next_conversation_id": cp.next_conversation_id,
                "output": cp.output,
                "error": cp.error,
                "wave": cp.wave_key,
                "attempts": cp.attempts,
                "reused": bool(cp.reused),  # its answer came from a stored one: no model call
                "code_version": cp.code_version,
                **({"turns": cp.snapshot["turns"]} if cp.snapshot.get("turns") else {}),
            }
            for name, cp in rows
        ]
        if as_json:
            click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
            return
        click.echo(f"{'checkpoint':>10}  {'conversation':<24} {'status':<9} -> next  output or error")
        for e in entries:
            text = e["error"] if e["status"] == "failed" else (e["output"] or "")
            click.echo(f"{e['checkpoint_id']:>10}  {e['conversation']:<24} {e['status']:<9} -> "
                       f"{e['next_conversation_id'] or 'END'}  {text[:100]!r}")
            for number, turn in enumerate(e.get("turns", []), 1):  # a multi-turn chat: every turn
                click.echo(f"{'':>10}    turn {number}: {turn['prompt'][:60]!r} -> {turn['answer'][:60]!r}")
        return
    plan = WorkflowPlan(spec)
    p = progress(engine, plan)
    if as_json:
        click.echo(json.dumps(p.as_dict(), indent=2))
    else:
        console = Console(width=None if sys.stdout.isatty() else 120)
        console.print(_table(p))
        # their hints are `turing run` commands, which a history-only workflow cannot take
        for line in [] if found.history_only else Held(p.held_by_failures, p.failed_retryable).lines(spec.name):
            console.print(line)


@click.command()
@click.argument("workflow")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5), help="Seconds between refreshes.")
def monitor(workflow: str, once: bool, interval: float) -> None:
    """Live progress of WORKFLOW by step, refreshed until Ctrl-C (--once: one snapshot)."""
    spec = find_workflow(workflow, history=True)
    engine = ready_engine()
    plan = WorkflowPlan(spec)
    console = Console()
    if once:
        Console(width=None if sys.stdout.isatty() else 120).print(_table(progress(engine, plan)))
        return
    try:
        with Live(_table(progress(engine, plan)), console=console, refresh_per_second=1) as live:
            while True:
                time.sleep(interval)
                live.update(_table(progress(engine, plan)))
    except KeyboardInterrupt:
        pass
