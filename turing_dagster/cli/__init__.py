"""`turing`: set up the store, load postings, run and watch workflows."""

from __future__ import annotations

import atexit
import os
import sys
import threading

import click
from sqlalchemy.exc import OperationalError

from turing_dagster.cli.errors import USER_ERRORS, exit_code_for
from turing_dagster.cli.logs import console_logging
from turing_dagster.cli.plan_cmd import plan
from turing_dagster.cli.qa_cmd import qa
from turing_dagster.cli.report_cmd import report
from turing_dagster.cli.run_cmd import run
from turing_dagster.cli.setup_cmds import init, postings
from turing_dagster.cli.status_cmds import monitor, status
from turing_dagster.cli.try_cmd import try_
from turing_dagster.cli.validate import validate
from turing_dagster.cli.workflows_cmd import workflows
from turing_dagster.interpreter import rare_full_passes
from turing_dagster.settings import ollama_host_problem
from turing_dagster.simulator.cli import simulate_ollama
from turing_dagster.store.engine import first_line


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Turing: LLM workflows over job postings, in waves, on Dagster.

    Configuration comes from TURING_DATABASE_URL, OLLAMA_HOST (one host) or TURING_OLLAMA_HOSTS (a comma
    list), TURING_WORKFLOWS_DIR and DAGSTER_HOME.
    """


for command in (init, validate, postings, run, plan, try_, status, monitor, qa, report, workflows, simulate_ollama):
    cli.add_command(command)


def console_main() -> None:
    """The `turing` executable: `main`, then the exit below."""
    rare_full_passes()  # the start-up builds Dagster's objects, none of them garbage (interpreter.py)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    exit_without_teardown(code)


def exit_without_teardown(code: object) -> None:
    """Exit as Python does, minus freeing every module's objects one by one: after a Dagster run that
    teardown took ~0.7 s of a `turing run` and frees nothing the OS does not take back at once.

    Everything else Python's exit does happens: threads still working are waited for (then this is a
    plain `sys.exit`), atexit handlers run (Dagster's, logging's), stdout and stderr are flushed."""
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): Python prints it and exits 1
        click.echo(code, err=True)
        code = 1
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`turing status | head`): nothing left to say there
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: a user mistake is one line on stderr and a non-zero exit, never a traceback.

    `argv` None: the process's arguments.
    """
    console_logging()
    problem = ollama_host_problem()
    if problem:  # before any command: every one of them would trip over it
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    try:
        cli.main(args=argv, prog_name="turing", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # `turing`, `turing workflows`: the help, not an error
        click.echo(exc.ctx.get_help())
        sys.exit(0)
    except click.UsageError as exc:
        # one line, as for every other mistake; `--help` has the rest
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        text = f"database error: {first_line(exc)}" if isinstance(exc, OperationalError) else str(exc)
        click.echo(f"error: {text}", err=True)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
