"""`turing validate`: check workflow definition files without touching the database."""

from __future__ import annotations

import difflib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from turing_dagster import settings
from turing_dagster.workflows.actors import actor_errors
from turing_dagster.workflows.loader import validate_paths, workflow_warnings
from turing_dagster.workflows.spec import Workflow

PROBE_SECONDS = 2.0  # per server: a check, not a run; a hung host must not hold the command up


@click.command("validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate workflow definition files (PATHs are files or directories; default: the workflows directory).

    Prints one `ok` line per valid workflow and one line per error naming file,
    conversation and field; exits 2 if any error was found. Warnings (brace text that looks like a
    placeholder but is not one, a model the Ollama servers do not have, a Python actor that cannot be
    imported here) are printed too, but alone they exit 0; when no Ollama server answers, one note says so
    and how to get one.
    """
    # Paths are checked by the loader, not click, so a missing one is one line like any other error.
    workflows, errors = validate_paths(list(paths) or [settings.workflows_dir()])
    for workflow in workflows:
        count = len(workflow.conversations)
        click.echo(f"ok  {workflow.source_file}  (workflow {workflow.name}, {count} conversations)")
    for workflow in workflows:
        for warning in workflow_warnings(workflow):
            click.echo(f"warning: {warning}", err=True)
        # a warning, as a missing model is: the actors' package may live where the runs do; `turing run` refuses
        for problem in actor_errors(workflow):
            click.echo(f"warning: {problem}", err=True)
    for line in model_lines(workflows):
        click.echo(line, err=True)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise SystemExit(2)


def _server_models(hosts: list[str]) -> dict[str, set[str] | Exception]:
    """host -> its models per /api/tags (normalised names), or the error it gave instead."""
    # the client only when there are models to check: `turing validate` stays quick otherwise
    import ollama

    from turing_dagster.ollama.calls import model_name, process_models
    from turing_dagster.ollama.errors import NotAnOllamaServerError
    from turing_dagster.ollama.pool import HostPool, PoolConfig

    pool = HostPool(PoolConfig(hosts=tuple(hosts), control_timeout_seconds=PROBE_SECONDS,
                               connect_timeout_seconds=PROBE_SECONDS, max_attempts=1))

    def listed(host: str) -> set[str]:
        try:
            return {model_name(m) for m in process_models(pool.control_client(host).list())}
        except ollama.ResponseError as exc:
            raise NotAnOllamaServerError(host, 404, "/api/tags") if exc.status_code == 404 else exc from None

    found: dict[str, set[str] | Exception] = {}
    try:
        with ThreadPoolExecutor(max_workers=len(hosts), thread_name_prefix="validate-tags") as probe:
            futures = {h: probe.submit(listed, h) for h in hosts}
        for host, future in futures.items():
            try:
                found[host] = future.result()
            except Exception as exc:
                found[host] = exc
    finally:
        pool.close()
    return found


def _users(workflows: list[Workflow]) -> dict[tuple[tuple[str, ...], str], dict[str, list[str]]]:
    """(the workflow's hosts, model) -> workflow -> the conversations asking that model."""
    users: dict[tuple[tuple[str, ...], str], dict[str, list[str]]] = {}
    for workflow in workflows:
        hosts = tuple(settings.workflow_hosts(workflow.name))
        for conv in workflow.ordered:
            if conv.model:
                users.setdefault((hosts, conv.model), {}).setdefault(workflow.name, []).append(conv.name)
    return users


def model_lines(workflows: list[Workflow]) -> list[str]:
    """A warning per model that no answering server of its workflow has, with the close names they
    do have; one note when no server answers. Never an error: the servers may change by run time."""
    from turing_dagster.ollama.calls import describe, normalize_model
    from turing_dagster.ollama.errors import NotAnOllamaServerError, how_to_get_ollama

    try:
        users = _users(workflows)
    except settings.HostConfigError as exc:
        return [f"note: models not checked: {exc}"]
    if not users:
        return []
    servers = _server_models(sorted({h for hosts, _ in users for h in hosts}))
    lines = [f"warning: {exc}" for exc in servers.values() if isinstance(exc, NotAnOllamaServerError)]
    silent = {h: describe(exc) for h, exc in servers.items()
              if isinstance(exc, Exception) and not isinstance(exc, NotAnOllamaServerError)}
    if silent and all(isinstance(v, Exception) for v in servers.values()):
        where = "; ".join(f"{h} ({why})" for h, why in silent.items())
        return [*lines, f"note: models not checked, no Ollama answered at {where}: "
                        f"{how_to_get_ollama(next(iter(silent)))}"]
    lines += [f"note: models not checked on {h} ({why})" for h, why in silent.items()]
    for (hosts, model), by in users.items():
        answering = [h for h in hosts if not isinstance(servers[h], Exception)]
        have = {name for h in answering for name in servers[h]}  # type: ignore[union-attr]
        if not answering or normalize_model(model) in have:
            continue
        close = difflib.get_close_matches(normalize_model(model), sorted(have), n=3)
        there = (f"close names there: {', '.join(close)}" if close
                 else f"it has {len(have)} other model(s)" if have else "it has no models")
        used = "; ".join(f"{name}: {', '.join(convs)}" for name, convs in by.items())
        lines.append(f"warning: model {model} ({used}) is not on {', '.join(answering)}; {there}; "
                     f"`ollama pull {model}` there fetches it")
    return lines
