"""`turing qa`: the QA asset checks' findings, in the terminal."""

from __future__ import annotations

import json

import click

from turing_dagster.cli.common import find_workflow, ready_engine
from turing_dagster.steps.qa import OK, SHOWN, evaluate_workflow
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflows.plan import WorkflowPlan


@click.command("qa")
@click.argument("workflow")
@click.option("--wave", "waves", multiple=True, help="Only this wave (repeatable; default: every wave).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--show", default=SHOWN, show_default=True, type=click.IntRange(min=0), help="Offenders listed per check.")
def qa(workflow: str, waves: tuple[str, ...], as_json: bool, show: int) -> None:
    """QA of WORKFLOW's stored results, as its Dagster asset checks see them.

    Per conversation: template holes, empty outputs, invalid JSON, answers to prompts the model's context
    cut (fits_context), and with `qa:` in the definition,
    items not grounded in the posting and facts (numbers, money, e-mail, URLs) not in it. Severity is
    OK, WARN or ERROR (by the conversation's `qa` thresholds); the exit code is 0 either way.
    """
    spec = find_workflow(workflow, history=True)
    engine = ready_engine()
    known = wave_keys(engine, spec.workflow_id)
    unknown = [w for w in waves if w not in known]
    if unknown:
        raise click.ClickException(
            f"no wave {unknown[0]!r} in workflow {spec.name} (known: {', '.join(known) or 'none yet'})"
        )
    findings = evaluate_workflow(engine, WorkflowPlan(spec), list(waves) or known)
    if as_json:
        click.echo(json.dumps([{"conversation": f.conversation, "check": f.check, "severity": f.severity,
                                **f.metadata(show)} for f in findings], indent=2, ensure_ascii=False))
        return
    scope = ", ".join(waves) if waves else f"all {len(known)} wave(s)"
    click.echo(f"QA of {spec.name} over {scope}")
    for f in findings:
        share = f" ({f.share:.0%})" if f.checked else ""
        click.echo(f"{f.severity:<5}  {f.asset:<28} {f.check:<18} {f.offending}/{f.checked} {f.unit}{share}")
        if f.severity != OK:
            for pid, what in f.offenders[:show]:
                click.echo(f"{'':7}{pid}: {what}")
            if f.offending > show:
                click.echo(f"{'':7}... and {f.offending - show} more")
    bad = [f for f in findings if f.severity != OK]
    click.echo(f"{len(findings)} checks: {len(findings) - len(bad)} passed, {len(bad)} with findings")
