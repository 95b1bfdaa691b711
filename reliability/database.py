"""Scenarios that take PostgreSQL away mid-run: terminated backends, and a real server restart."""


import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from reliability.harness import STEP_KEY, Ctx, Env, Row, _clean, _one_line, _row, _wait_for_progress, unstored_answers
from reliability.proxy import Proxy

# where .ci/start-postgres puts its cluster; another server: TURING_TEST_PG_DATA (and TURING_TEST_PG_CTL)
DEFAULT_PG_DATA = "/tmp/turing-pg/data"


def database_connections_terminated(ctx: Ctx) -> Row:
    env = ctx.env("pgkill", chunk=3, request_seconds=0.02)
    env.load(30 if ctx.fast else 60)
    url = sa.make_url(env.url)
    admin = sa.create_engine(url.set(username="postgres", password=None, database="postgres"),
                             isolation_level="AUTOCOMMIT")
    stop, killed = threading.Event(), []
    proc = env.popen("run", "branchy")
    _wait_for_progress(env, proc, 0)

    def terminate() -> None:
        with admin.connect() as conn:
            while not stop.is_set():  # outages of 0.3 s, a second apart: what a restart looks like
                end = time.monotonic() + 0.3
                while time.monotonic() < end:
                    killed.extend(conn.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": url.database}).scalars())
                    time.sleep(0.005)
                stop.wait(1.0)

    killer = threading.Thread(target=terminate, daemon=True)
    killer.start()
    out, err = proc.communicate(timeout=600)
    stop.set()
    killer.join(30)
    admin.dispose()
    from turing_dagster.store.engine import dispose_all

    dispose_all()
    ok = proc.returncode == 0 and _clean(err)
    said = _retries(err) if proc.returncode == 0 else repr(_one_line(None, err))
    return _row(env, "PostgreSQL connections terminated mid-run", ok,
                f"{len(killed)} connections terminated; run exit {proc.returncode}, {said}"[:150])


def _retries(err: str) -> str:
    lines = err.splitlines()
    ours = sum("database connection lost" in line for line in lines)
    dagsters = sum("Retrying failed database connection" in line for line in lines)
    dropped = sum("Exception while writing logger call to event log" in line for line in lines)
    return f"retry warnings: {ours} Turing's, {dagsters} Dagster's" + (
        f"; {dropped} log line(s) Dagster could not store" if dropped else "")


def _dagster_statuses(env: Env) -> list[str]:
    """The runs Dagster recorded in its PostgreSQL storage (read directly, not through a proxy)."""
    url = sa.make_url(env.url)
    engine = sa.create_engine(url.set(database=f"{url.database}_dagster"))
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text("SELECT status FROM runs")).scalars())
    finally:
        engine.dispose()


def _pg_ctl(url: sa.URL) -> list[str] | str:
    """The command that restarts the server behind `url` (as the data directory's owner), or why not."""
    data = Path(os.environ.get("TURING_TEST_PG_DATA") or DEFAULT_PG_DATA)
    binary = os.environ.get("TURING_TEST_PG_CTL") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)), None
    ) or shutil.which("pg_ctl")
    if not binary:
        return "no pg_ctl (set TURING_TEST_PG_CTL)"
    try:  # its 4th line is the port the server listens on: the server must be the URL's
        port = (data / "postmaster.pid").read_text().splitlines()[3].strip()
    except (OSError, IndexError):
        return f"no running server in {data} (set TURING_TEST_PG_DATA)"
    if port != str(url.port or 5432):
        return f"the server in {data} listens on {port}, the database URL on {url.port or 5432}"
    as_owner = ["runuser", "-u", data.owner(), "--"] if os.getuid() == 0 and data.stat().st_uid != 0 else []
    # -l: the restarted server must not inherit (and hold open) this process's pipes
    return [*as_owner, binary, "restart", "-D", str(data), "-m", "fast", "-w", "-t", "60",
            "-l", str(data.parent / "server.log")]


def _dagster_on_postgres(env: Env, url: sa.URL) -> None:
    """A fresh database beside the store's holds this home's Dagster storage, reached through `url`'s
    host and port (a proxy's, when the outage is the proxy's)."""
    store = sa.make_url(env.url)
    name = f"{store.database}_dagster"
    admin = sa.create_engine(store.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    env.env["TURING_RELIABILITY_DAGSTER_PG_URL"] = url.set(database=name).render_as_string(hide_password=False)
    (env.home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url:\n      env: TURING_RELIABILITY_DAGSTER_PG_URL\n"
        "telemetry:\n  enabled: false\n"
    )


def _mid_step(ctx: Ctx, env: Env, name: str, disturb: Callable[[], str], dagster_pg: sa.URL | None) -> Row:
    """`turing run` on 60 postings, disturbed in the middle of its first model step; a failed run gets
    one plain rerun. `disturb()` returns what happened, for the message."""
    if dagster_pg is not None:
        _dagster_on_postgres(env, dagster_pg)
    env.load(30 if ctx.fast else 60)
    proc = env.popen("run", "branchy")
    # every posting through the Python step and two chunks into the first model step
    _wait_for_progress(env, proc, len(env.ids) + 6)
    if proc.poll() is not None:
        proc.communicate()
        return _row(env, name, False, f"the run ended (exit {proc.returncode}) before the outage: nothing tested")
    try:
        what = disturb()
    except RuntimeError as exc:
        proc.kill()
        proc.communicate(timeout=60)
        return Row(name, env.db, len(env.ids), "?", "?", "?", "FAIL", str(exc)[:150])
    from turing_dagster.store.engine import dispose_all

    dispose_all()  # this process's pooled connections died too
    out, err = proc.communicate(timeout=600)
    if proc.returncode == 0:
        # and Dagster's record of the run says what happened (not a run left STARTED)
        recorded = _dagster_statuses(env) if dagster_pg is not None else ["SUCCESS"]
        seen = f"; Dagster recorded {', '.join(recorded)}" if dagster_pg is not None else ""
        ok = _clean(err) and recorded == ["SUCCESS"]
        return _row(env, name, ok, f"{what}; the run rode over it: exit 0{seen}; {_retries(err)}"[:200])
    again = env.turing("run", "branchy")
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    ok = _clean(err) and len(errors) == 1 and STEP_KEY not in errors[0] and again.returncode == 0
    message = f"{what}; run exit {proc.returncode} {_one_line(None, err)!r}; rerun exit {again.returncode}"
    # the run failed, so what its step had asked and not stored may be asked for again
    return _row(env, name, ok, message[:200], max_repeated=unstored_answers(env.chunk))


def postgres_restarted(dagster_on_postgres: bool) -> Callable[[Ctx], Row]:
    """`pg_ctl restart -m fast` (the server the store's URL names) in the middle of a model step."""
    where = "Dagster's storage on it too" if dagster_on_postgres else "Dagster on SQLite"
    name = f"PostgreSQL restarted mid-step ({where})"

    def scenario(ctx: Ctx) -> Row:
        env = ctx.env("pgrestart-dagster" if dagster_on_postgres else "pgrestart", chunk=3, request_seconds=0.02)
        url = sa.make_url(env.url)
        command = _pg_ctl(url)
        if isinstance(command, str):
            return Row(name, env.db, 0, "-", "-", "-", "not run", f"cannot restart the server: {command}")

        def restart() -> str:
            started = time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            if done.returncode:
                raise RuntimeError(f"pg_ctl restart exit {done.returncode}: {_one_line(done)}")
            return f"pg_ctl restart -m fast took {time.monotonic() - started:.1f}s"

        return _mid_step(ctx, env, name, restart, url if dagster_on_postgres else None)

    return scenario


def postgres_unreachable(seconds: float, cut: str) -> Callable[[Ctx], Row]:
    """Connections to PostgreSQL cut and refused for `seconds` (a proxy in front of it, so the server
    others share keeps running): a restart that takes long, or the network gone. `cut`: "store" (Dagster
    on SQLite), "both" (Dagster's storage on the same server) or "dagster" (only Dagster's storage: the
    store stays reachable, so the steps go on while Dagster's writes meet the outage)."""
    name = {
        "store": f"PostgreSQL unreachable {seconds:.0f}s mid-step (Dagster on SQLite)",
        "both": f"PostgreSQL unreachable {seconds:.0f}s mid-step (Dagster's storage on it too)",
        "dagster": f"Dagster's storage (PostgreSQL) unreachable {seconds:.0f}s mid-step, the store up",
    }[cut]

    def scenario(ctx: Ctx) -> Row:
        env = ctx.env(f"pgdown{seconds:.0f}-{cut}", chunk=3, request_seconds=0.02)
        url = sa.make_url(env.url)
        proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        if cut != "dagster":
            env.env["TURING_DATABASE_URL"] = proxied.render_as_string(hide_password=False)

        def outage() -> str:
            proxy.cut()
            time.sleep(seconds)
            proxy.restore()
            return f"{seconds:.0f}s without a connection"

        try:
            return _mid_step(ctx, env, name, outage, proxied if cut != "store" else None)
        finally:
            proxy.close()

    return scenario
