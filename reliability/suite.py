"""`make reliability`: operator scenarios against real processes, one table row each.

What each row does, what the columns mean and the table of the last full run: reliability/README.md, which a
full run (every scenario, not --fast) rewrites between its markers.

    .venv/bin/python -m reliability [--only NAME[,NAME]] [--fast]
"""


import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from reliability.answers import prompts_longer_than_num_ctx, unstorable_answers
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
    "unstorable": unstorable_answers,
    "num_ctx": prompts_longer_than_num_ctx,
}
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- the table: written by `make reliability` -->", "<!-- end of the table -->"
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
                row.seconds = time.monotonic() - started
                print(f"  {row.scenario} [{db}]: {row.outcome} ({row.seconds:.0f}s)", file=sys.stderr)
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
    started = time.monotonic()
    rows = run_scenarios(names, fast=args.fast)
    print(table(rows))
    if not args.fast and names == list(SCENARIOS):  # a subset or small sizes would replace the table with less
        write_readme(rows, time.monotonic() - started)
        print(f"table written into {README}", file=sys.stderr)
    # a row that could not run here (no server to restart) says why; it is not a failure of Turing's
    sys.exit(0 if all(r.outcome in ("pass", "not run") for r in rows) else 1)


def write_readme(rows: list[Row], seconds: float, path: Path = README) -> None:
    """Replace the table between the README's markers with these rows (ports the run picked made neutral,
    so a rerun changes only what changed)."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {path} lacks the markers {BEGIN} and {END}")
    dbs = ", ".join(dict.fromkeys(r.db for r in rows))
    outcomes = Counter("FAIL" if r.outcome.startswith("FAIL") else r.outcome for r in rows)
    counts = ", ".join(f"{outcomes[o]} {o}" for o in ("pass", "FAIL", "not run") if outcomes[o])
    body = re.sub(r"(https?://127\.0\.0\.1):\d+", r"\1:PORT", table(rows))
    summary = f"{len(rows)} rows on {dbs}: {counts}; {seconds / 60:.0f} minutes in all."
    head, rest = text.split(BEGIN, 1)
    path.write_text(f"{head}{BEGIN}\n{summary}\n\n{body}\n{END}{rest.split(END, 1)[1]}")
