"""What several commands share: the engine with its schema checked, and WORKFLOW lookup.

WORKFLOW is looked up in the definition files first, then in the database: a workflow whose file is
gone, or that was retired, keeps its history there, with its definition as last synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa

from turing_dagster import settings
from turing_dagster.cli.errors import HistoryOnlyError, UnknownWorkflowError
from turing_dagster.store.engine import StoreError, get_engine
from turing_dagster.store.migrate import require_schema
from turing_dagster.store.sync import StoredWorkflow, find_stored, retired_under, stored_workflows
from turing_dagster.workflows.broken import warn_broken
from turing_dagster.workflows.loader import WorkflowValidationError, load_workflows_sparing, parse_workflow
from turing_dagster.workflows.spec import Workflow


def ready_engine() -> sa.Engine:
    engine = get_engine()
    require_schema(engine)
    return engine


def _store() -> sa.Engine | None:
    """The engine when the schema is there; None otherwise (a lookup then knows the files alone)."""
    try:
        return ready_engine()
    except StoreError:
        return None


def why_history_only(stored: StoredWorkflow, defined: list[Workflow]) -> str:
    """Why no definition file runs this stored workflow any more, as the start of a sentence."""
    if stored.retired_at is not None:
        return f"workflow {stored.workflow_id} ({stored.defined_name}) was retired on {stored.retired_on}"
    if not stored.source_file or not Path(stored.source_file).is_file():
        return f"the definition file of {stored.defined_name} ({stored.source_file or 'unknown'}) is gone"
    folder = settings.workflows_dir()
    if not Path(stored.source_file).resolve().is_relative_to(folder.resolve()):  # the setting moved, not the file
        missing = "" if folder.is_dir() else ", a folder that does not exist"
        return (f"the definition file of {stored.defined_name} ({stored.source_file}) is not in "
                f"TURING_WORKFLOWS_DIR ({folder}{missing})")
    now = next((w for w in defined if w.source_file == stored.source_file), None)
    instead = f", it defines {now.name} ({now.workflow_id}) now" if now else ""
    return f"{stored.source_file} no longer defines {stored.defined_name} ({stored.workflow_id}){instead}"


def _rebuilt(stored: StoredWorkflow) -> Workflow:
    where = f"{stored.source_file or f'workflow {stored.workflow_id}'} (as last synced)"
    workflow, errors = parse_workflow(stored.definition, where)
    if workflow is None:  # a definition this version of Turing no longer accepts
        raise WorkflowValidationError(errors[:1])
    workflow.source_file = stored.source_file or ""
    return workflow


def name_taken_note(workflow: Workflow) -> None:
    """A `note:` when the database keeps this workflow's name under another workflow_id: the counts a reading
    command shows are the file's workflow's, not that history (a run refuses it, naming the way out)."""
    engine = _store()
    stored = find_stored(engine, workflow.name) if engine is not None else None
    if stored is not None and stored.workflow_id != workflow.workflow_id:
        click.echo(f"note: {workflow.source_file} gives {workflow.name!r} workflow_id {workflow.workflow_id}; the "
                   f"database keeps that name's history as workflow_id {stored.workflow_id} (`turing status "
                   f"{stored.workflow_id}`), and `turing run {workflow.name}` says how to resolve it", err=True)


@dataclass(frozen=True)
class Found:
    workflow: Workflow
    history_only: str | None = None  # why the database alone keeps it (file gone, retired), if it does
    retired: bool = False

    def note(self) -> None:
        """The line that says a command shows a history-only workflow as last synced."""
        if self.history_only:
            click.echo(f"note: {self.history_only}; showing its history as last synced", err=True)


def lookup_workflow(name_or_id: str) -> Found:
    """WORKFLOW, a name or a workflow_id, from the files or else the database; a broken file beside it
    is one warning line."""
    workflows, errors = load_workflows_sparing()
    for workflow in workflows:
        if name_or_id in (workflow.name, str(workflow.workflow_id)):
            warn_broken(errors)
            return Found(workflow)
    engine = _store()
    stored = find_stored(engine, name_or_id) if engine is not None else None
    broken = {e.file for e in errors}
    if stored is not None and (stored.retired_at is not None or stored.source_file not in broken):
        renamed = next((w for w in workflows if w.workflow_id == stored.workflow_id), None)
        warn_broken(errors)
        if renamed is not None:  # the file gave it a new name, not yet synced
            return Found(renamed)
        return Found(_rebuilt(stored), why_history_only(stored, workflows), stored.retired_at is not None)
    if errors:  # perhaps WORKFLOW is the broken one: say what is wrong rather than 'no workflow'
        raise WorkflowValidationError(errors)
    known = ", ".join(f"{w.name} ({w.workflow_id})" for w in workflows) or "none"
    defined = {w.workflow_id for w in workflows}
    history = [s.label for s in stored_workflows(engine) if s.workflow_id not in defined] if engine else []
    retired = [s.workflow_id for s in retired_under(engine, name_or_id)] if engine else []
    hint = f"; {name_or_id} was retired as workflow_id {', '.join(map(str, retired))}" if retired else ""
    also = f"; history only: {', '.join(history)}" if history else ""
    raise UnknownWorkflowError(f"no workflow {name_or_id!r}{hint}; known: {known}{also}")


def find_workflow(name_or_id: str, history: bool = False) -> Workflow:
    """WORKFLOW from its definition file; with `history`, also one the database alone keeps (its file
    gone, or retired), rebuilt from its definition as last synced, after a `note:` line saying so."""
    found = lookup_workflow(name_or_id)
    if found.history_only and not history:
        again = "" if found.retired else "; putting its definition file back runs it again"
        raise HistoryOnlyError(
            f"{found.history_only}, and this command needs a workflow defined by a file: "
            f"`turing status {found.workflow.workflow_id}` shows its history{again}"
        )
    found.note()
    return found.workflow
