"""`turing init` and `turing postings load`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from turing_dagster import settings
from turing_dagster.cli.common import ready_engine
from turing_dagster.settings import DagsterHomeError
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import MissingField, missing_fields, read_postings, upsert_postings
from turing_dagster.store.sync import sync_workflows
from turing_dagster.workflows.broken import errors_by_file, warn_broken
from turing_dagster.workflows.loader import load_workflows_sparing


@click.command()
def init() -> None:
    """Create or upgrade the schema, sync every workflow definition and create the Dagster instance's
    storage in DAGSTER_HOME (idempotent)."""
    # a broken file is a warning line and is not synced; the good ones are (`turing validate` fails on it)
    workflows, errors = load_workflows_sparing()
    warn_broken(errors)
    settings.dagster_home()  # a relative or unwritable DAGSTER_HOME is one line before the store is touched
    engine = get_engine()
    before, after = upgrade(engine)
    sync_workflows(engine, workflows)
    state = "created" if before == 0 else ("upgraded" if before < after else "up to date")
    click.echo(f"schema {state} (version {after}) at {engine.url.render_as_string(hide_password=True)}")
    for wf in workflows:
        click.echo(f"synced workflow {wf.workflow_id} {wf.name}: {len(wf.conversations)} conversations")
    if not workflows and not errors:
        click.echo(f"no workflow definitions in {settings.workflows_dir()}")
    # Dagster's storage is created here, once, under a lock: first runs started together used to race
    # to create it and could corrupt DAGSTER_HOME (a crash). In a child process: this command stays
    # free of Dagster's import, like the other store commands.
    done = subprocess.run(
        [sys.executable, "-m", "turing_dagster.dagster_defs.instance"], capture_output=True, text=True, check=False
    )
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["creating the Dagster instance failed"]
        raise DagsterHomeError(lines[-1].removeprefix("error: "))
    for line in done.stderr.splitlines():
        if line.startswith("note: "):
            click.echo(line, err=True)
    click.echo(f"dagster instance ready in {done.stdout.strip()}")
    if errors:  # the rest is set up; the files the warnings name are not, and `init` did not do its whole job
        click.echo(f"error: {len(errors_by_file(errors))} workflow file(s) in {settings.workflows_dir()} not synced "
                   "(the warnings above name them); `turing validate` lists each error", err=True)
        raise SystemExit(2)


@click.group()
def postings() -> None:
    """Manage job postings."""


@postings.command("load")
@click.argument("file", type=click.Path(path_type=Path))
def load(file: Path) -> None:
    """Upsert postings from a JSONL or CSV FILE; any bad row rejects the whole file.

    Each record needs posting_id; job_title, job_description and enabled are columns, every other
    field is kept in the posting's extra JSON and usable in prompts as {posting.FIELD}. A posting
    whose content changed loses its checkpoints and is processed again by the next run.

    Warns (one line each, exit 0) about job_title, job_description and every {posting.FIELD} a
    workflow reads when no record of the file has it.
    """
    loaded = read_postings(file)
    result = upsert_postings(ready_engine(), loaded.records)
    click.echo(
        f"loaded {len(loaded.records)} posting(s) from {file}: {result.inserted} new, {result.changed} changed "
        f"(processed again by the next run), {result.unchanged} unchanged"
    )
    # a misspelt column loads fine and then fails every posting at the step that reads it
    workflows, _ = load_workflows_sparing()  # a broken file is `turing validate`'s to report
    for missing in missing_fields(loaded.fields, workflows):
        click.echo(f"warning: {_missing_line(file, missing)}", err=True)


def _missing_line(file: Path, missing: MissingField) -> str:
    guess = f" (did you mean {missing.close}?)" if missing.close else ""
    if missing.readers:
        who = "; ".join(f"{name} reads it ({', '.join(uses)})" for name, uses in missing.readers.items())
    else:  # a core column nothing reads today: still stored empty for every posting
        who = "no workflow reads it yet, the column stays empty"
    return f"{file} has no {missing.field} field{guess}; {who}"
