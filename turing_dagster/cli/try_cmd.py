"""`turing try WORKFLOW CONVERSATION`: an edited conversation on a sample, beside the results it would replace."""

from __future__ import annotations

import json
from pathlib import Path

import click

from turing_dagster import settings
from turing_dagster.cli.common import find_workflow, ready_engine
from turing_dagster.store.waves import load_postings
from turing_dagster.workflows.plan import WorkflowPlan


def _markdown(trial, workflow: str) -> str:
    data = trial.as_dict()
    lines = [f"# `turing try {workflow} {trial.conversation}`", "",
             f"{len(trial.compared)} posting(s): {data['changed']} changed, {data['unchanged']} unchanged; "
             f"{trial.calls} model call(s), {trial.reused} answer(s) reused; next step changed for "
             f"{len(data['next_step_changed'])}.", "", "| QA check | before | after |", "| --- | --- | --- |"]
    lines += [f"| {name} | {data['qa_before'].get(name, '-')} | {after} |" for name, after in data["qa_after"].items()]
    for c in trial.changed[:5]:
        lines += ["", f"## {c.posting_id}", "", "before:", "", "```", c.before or "(none)", "```", "",
                  "after:", "", "```", c.after or f"(failed: {c.error})", "```"]
    return "\n".join(lines) + "\n"


@click.command("try")
@click.argument("workflow")
@click.argument("conversation")
@click.option("--sample", default=20, show_default=True, type=click.IntRange(min=1),
              help="Postings with a result of an earlier definition to try it on (the latest ones).")
@click.option("--postings", "posting_ids", help="These postings instead (comma-separated ids).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write a Markdown report here.")
def try_(workflow: str, conversation: str, sample: int, posting_ids: str | None, as_json: bool, out: Path | None) -> None:
    """Run CONVERSATION of WORKFLOW as now defined on a sample, side by side with its stored results.

    Shows outputs changed and unchanged, postings whose next step would change, the QA findings before and
    after, and the first differing outputs. No checkpoint changes; the answers are stored by their request
    keys, so a later `turing run WORKFLOW --stale` does not ask them again.
    """
    # the ollama client and the step code only here: the other commands start without them
    from turing_dagster.ollama.pool import HostPool, PoolConfig
    from turing_dagster.steps.trial import sample_postings, try_conversation

    spec = find_workflow(workflow)
    plan = WorkflowPlan(spec)
    if conversation not in plan.by_name:
        known = ", ".join(s.conversation.name for s in plan.steps)
        raise click.ClickException(f"no conversation {conversation!r} in {spec.name} (known: {known})")
    step = plan.by_name[conversation]
    engine = ready_engine()
    if posting_ids is not None:
        ids = list(dict.fromkeys(p.strip() for p in posting_ids.split(",") if p.strip()))
        stored = load_postings(engine, ids)
        unknown = [p for p in ids if p not in stored]
        if not ids or unknown:
            what = f"no posting {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} in the store" if unknown \
                else "no posting ids given"
            raise click.BadParameter(what, param_hint="--postings")
    else:
        ids = sample_postings(engine, plan, step, sample)
        if not ids:
            raise click.ClickException(
                f"no posting has a result of {conversation} under an earlier definition: edit the conversation "
                "first, or name postings with --postings")
    pool = None
    if step.model:  # the same hosts and settings a run's OllamaModels resource has
        pool = HostPool(PoolConfig(hosts=tuple(settings.workflow_hosts(spec.name)), residency=settings.ollama_residency(),
                                   **settings.ollama_timeouts()))
    try:
        session = pool.session(step.model, spec.options_for(conversation)) if pool else None
        trial = try_conversation(engine, plan, step, ids, session)
    finally:
        if pool is not None:
            pool.release()
            pool.close()
    if out is not None:
        try:
            out.write_text(_markdown(trial, spec.name))
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    if as_json:
        click.echo(json.dumps(trial.as_dict(), indent=2, ensure_ascii=False))
        return
    data = trial.as_dict()
    failed = data["failed"]
    click.echo(f"{spec.name} {conversation} on {len(ids)} posting(s): {data['changed']} changed, "
               f"{data['unchanged']} unchanged{f', {len(failed)} failed' if failed else ''}; {trial.calls} model "
               f"call(s), {trial.reused} answer(s) reused")
    for pid, error in list(failed.items())[:5]:
        click.echo(f"failed {pid}: {error}")
    if data["next_step_changed"]:
        click.echo(f"next step changed for {len(data['next_step_changed'])}: {', '.join(data['next_step_changed'])}")
    for name, after in data["qa_after"].items():
        click.echo(f"QA {name}: {data['qa_before'].get(name, '-')} -> {after}")
    for c in trial.changed[:5]:
        click.echo(f"--- {c.posting_id}\n  before: {(c.before or '(none)')[:200]!r}\n  after:  "
                   f"{(c.after or f'(failed: {c.error})')[:200]!r}")
    if out is not None:
        click.echo(f"report: {out}")
