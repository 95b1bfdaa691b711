"""`turing workflows list` and `turing workflows retire`: the workflows the database keeps, files or not."""

from __future__ import annotations

import json
from pathlib import Path

import click

from turing_dagster.cli.common import ready_engine
from turing_dagster.cli.errors import UnknownWorkflowError, WorkflowStateError
from turing_dagster.store.sync import StoredWorkflow, checkpoint_counts, find_stored, retire_workflow, stored_workflows
from turing_dagster.workflows.loader import WorkflowError, load_workflows_sparing
from turing_dagster.workflows.spec import Workflow


def _file_state(stored: StoredWorkflow, defined: dict[int, Workflow], broken: set[str]) -> tuple[str, str]:
    """(file, state): where its definition is and whether a file still defines it."""
    if stored.workflow_id in defined:
        return defined[stored.workflow_id].source_file, "present"
    file = stored.source_file or ""
    if file in broken:
        return file, "broken"
    if not file or not Path(file).is_file():
        return file, "gone"
    now = next((w for w in defined.values() if w.source_file == file), None)
    return file, f"defines {now.workflow_id}" if now else "no longer defines it"


def _load() -> tuple[dict[int, Workflow], set[str], list[WorkflowError]]:
    workflows, errors = load_workflows_sparing()
    return {w.workflow_id: w for w in workflows}, {e.file for e in errors}, errors


@click.group("workflows")
def workflows() -> None:
    """The workflows the database keeps: those of the definition files, and those whose file is gone
    or that were retired, whose history `turing status WORKFLOW_ID` still reads."""


@workflows.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_workflows(as_json: bool) -> None:
    """List every workflow in the database, with a definition file or not.

    Per workflow: workflow_id, name, whether its definition file is present (still defines it), gone,
    broken (does not load) or now defines another workflow, when it was retired, its checkpoints and
    the file.
    """
    engine = ready_engine()
    defined, broken, _ = _load()
    counts = checkpoint_counts(engine)
    rows = [(s, *_file_state(s, defined, broken), counts.get(s.workflow_id, 0)) for s in stored_workflows(engine)]
    if as_json:
        click.echo(json.dumps([
            {"workflow_id": s.workflow_id, "name": s.name, "file": file, "file_state": state,
             "retired_at": s.retired_utc.isoformat() if s.retired_utc else None, "checkpoints": n}
            for s, file, state, n in rows
        ], indent=2))
        return
    if not rows:
        click.echo("no workflows in the database: `turing init` syncs the definition files")
        return
    width = max(len(s.name) for s, *_ in rows)
    click.echo(f"{'id':>10}  {'name':<{width}}  {'definition':<20}  {'retired':<20}  {'checkpoints':>11}  file")
    for s, file, state, n in rows:
        click.echo(f"{s.workflow_id:>10}  {s.name:<{width}}  {state:<20}  {s.retired_on or '-':<20}  {n:>11}  {file or '-'}")


@workflows.command("retire")
@click.argument("workflow")
def retire(workflow: str) -> None:
    """Retire WORKFLOW (a name or a workflow_id) in the database and free its name.

    For a workflow whose file is gone, or was re-created under its name with a new workflow_id: it is
    renamed NAME~WORKFLOW_ID and never runs again. Its checkpoints stay, and `turing status
    WORKFLOW_ID` reads them; its conversation_ids stay its own. Refused while a definition file still
    defines it under that workflow_id.
    """
    engine = ready_engine()
    stored = find_stored(engine, workflow)
    if stored is None:
        known = ", ".join(s.label for s in stored_workflows(engine)) or "none"
        raise UnknownWorkflowError(f"no workflow {workflow!r} in the database; known: {known}")
    if stored.retired_at is not None:
        click.echo(f"workflow {stored.label} was retired already on {stored.retired_on}: nothing to do")
        return
    defined, broken, _ = _load()
    if stored.workflow_id in defined:
        raise WorkflowStateError(
            f"workflow {stored.label} is still defined by {defined[stored.workflow_id].source_file}: "
            "remove that file, or give its workflow a new workflow_id, before retiring it"
        )
    if stored.source_file in broken:
        raise WorkflowStateError(
            f"{stored.source_file}, the definition file of workflow {stored.label}, does not load, so it may still "
            f"define it: fix or remove it first (`turing validate {stored.source_file}`)"
        )
    retired = retire_workflow(engine, stored.workflow_id)
    if retired is None:  # another `retire` got there between our read and our write
        click.echo(f"workflow {stored.label} was retired already: nothing to do")
        return
    click.echo(
        f"retired workflow {stored.label}: the name {stored.name!r} is free for a new workflow_id; its history "
        f"stays as {retired.name!r}, read by `turing status {stored.workflow_id}`; its conversation_ids stay its own"
    )
