"""`make reliability`: operator scenarios against real processes, one table row each (issue 8).

The `turing` CLI runs in subprocesses against the Ollama SIMULATOR over HTTP (served from this
process), a SQLite store and, when TURING_TEST_DATABASE_URL is set, a PostgreSQL one (its tables are
dropped and recreated per scenario: give it a database of its own; the role needs CREATEDB for the
rows that put Dagster's storage in a database `<that database>_dagster`). Each DAGSTER_HOME is a fresh
temporary folder with Dagster's SQLite storage unless the row says otherwise. The restart rows run
`pg_ctl restart -m fast` on the server in TURING_TEST_PG_DATA (default: .ci/start-postgres's cluster;
pg_ctl from TURING_TEST_PG_CTL or /usr/lib/postgresql/*/bin), as its owner: everyone connected to that
server is disconnected for a moment. The outage rows cut a proxy in front of it instead. After the
disturbance the user's recovery is a plain `turing run` (twice at most) and the table counts what is left:

  lost        postings that did not reach the end of the workflow
  duplicated  (posting, conversation) pairs with more than one checkpoint
  repeated    chat requests the simulator received twice, word for word, beyond those its injected
              errors made the client send again (an answer asked for again)

    .venv/bin/python -m reliability [--only NAME[,NAME]] [--fast]
"""


import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reliability.daemon import daemon_ticks_and_runs
from reliability.database import database_connections_terminated, postgres_restarted, postgres_unreachable
from reliability.harness import Ctx, Row, table
from reliability.inputs import bad_input_files, hostile_postings, secrets_in_urls
from reliability.lifecycle import workflow_lifecycle
from reliability.runs import (
    concurrent_runs,
    hung_server,
    injected_errors,
    sensor_ticks_and_runs,
    server_dies_and_returns,
    sigkill_at_random_points,
)

SCENARIOS: dict[str, Callable[[Ctx], Row]] = {
    "sigkill": sigkill_at_random_points,
    "faults10": injected_errors(0.10),
    "faults30": injected_errors(0.30),
    "hung": hung_server,
    "dies": server_dies_and_returns,
    "pgkill": database_connections_terminated,
    "pgrestart": postgres_restarted(dagster_on_postgres=False),
    "pgrestart_dagster": postgres_restarted(dagster_on_postgres=True),
    "pgdown": postgres_unreachable(10, cut="store"),
    "pgdown_dagster": postgres_unreachable(10, cut="both"),
    "dagsterdown": postgres_unreachable(20, cut="dagster"),
    "concurrent2": concurrent_runs(2),
    "concurrent3": concurrent_runs(3),
    "ticks": sensor_ticks_and_runs,
    "daemon": daemon_ticks_and_runs,
    "badfiles": bad_input_files,
    "hostile": hostile_postings,
    "secrets": secrets_in_urls,
    "lifecycle": workflow_lifecycle,
}
ONCE = {"hung", "badfiles"}  # nothing in them depends on the store's database
POSTGRES_ONLY = {"pgkill", "pgrestart", "pgrestart_dagster", "pgdown", "pgdown_dagster", "dagsterdown"}


def run_scenarios(names: list[str], fast: bool = False, dbs: list[str] | None = None) -> list[Row]:
    dbs = dbs or ["sqlite"] + (["postgres"] if os.environ.get("TURING_TEST_DATABASE_URL") else [])
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="turing-reliability-") as tmp:
        for db in dbs:
            for name in names:
                if (name in ONCE and db != "sqlite") or (name in POSTGRES_ONLY and db != "postgres"):
                    continue
                ctx = Ctx(Path(tmp), db, fast)
                started = time.monotonic()
                try:
                    row = SCENARIOS[name](ctx)
                except Exception as exc:  # a crashed scenario is a failed row, not a crashed suite
                    row = Row(name, db, 0, "?", "?", "?", "FAIL (crashed)", f"{type(exc).__name__}: {exc}"[:150])
                finally:
                    ctx.close()
                print(f"  {row.scenario} [{db}]: {row.outcome} ({time.monotonic() - started:.0f}s)", file=sys.stderr)
                rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    parser.add_argument("--fast", action="store_true", help="smaller sizes (what the test suite runs)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    rows = run_scenarios(names, fast=args.fast)
    print(table(rows))
    # a row that could not run here (no server to restart) says why; it is not a failure of Turing's
    sys.exit(0 if all(r.outcome in ("pass", "not run") for r in rows) else 1)


