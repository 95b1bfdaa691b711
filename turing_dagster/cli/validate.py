"""`turing validate`: check workflow definition files without touching the database."""

from __future__ import annotations

from pathlib import Path

import click

from turing_dagster import settings
from turing_dagster.workflows.loader import validate_paths, workflow_warnings


@click.command("validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate workflow definition files (PATHs are files or directories; default: the workflows directory).

    Prints one `ok` line per valid workflow and one line per error naming file,
    conversation and field; exits 2 if any error was found. Warnings (brace text that looks like a
    placeholder but is not one) are printed too, but alone they exit 0.
    """
    # Paths are checked by the loader, not click, so a missing one is one line like any other error.
    workflows, errors = validate_paths(list(paths) or [settings.workflows_dir()])
    for workflow in workflows:
        count = len(workflow.conversations)
        click.echo(f"ok  {workflow.source_file}  (workflow {workflow.name}, {count} conversations)")
    for workflow in workflows:
        for warning in workflow_warnings(workflow):
            click.echo(f"warning: {warning}", err=True)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise SystemExit(2)
