"""A real `dagster-daemon run` ticking the new-postings sensor while `turing run` works the same workflow."""


import os
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
import yaml

from reliability.harness import DAGSTER, ROOT, STEP_KEY, WORKFLOWS, Ctx, Env, Row, _clean, _one_line, _row

DAEMON = Path(DAGSTER).parent / "dagster-daemon"
BUSY = "run again when it is done"  # how a run that lost the claim race says so (store/claims.py)
STEP = f"{STEP_KEY}conversations"  # the one step of every run of branchy (one multi-asset per workflow)


def _new_home(env: Env) -> Path:
    """A new DAGSTER_HOME with the project's dagster.yaml (the queue polled every second) and the storage
    `turing init` creates in it: no runs, partitions or sensor state yet.

    Not one without storage: a daemon opening a never-initialised home at the moment a `turing` command
    does can leave two alembic revisions in its runs.db (Dagster's SQLite storage creation is not safe
    across processes, and the daemon does not take Turing's lock); hence `turing init` first, as the
    README says."""
    home = env.root / "new_home"
    home.mkdir()
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config.setdefault("run_queue", {})["dequeue_interval_seconds"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    done = env.turing("init", DAGSTER_HOME=str(home))
    if done.returncode:
        raise RuntimeError(f"turing init: {_one_line(done)}")
    return home


def _stop(proc: subprocess.Popen) -> None:
    """End the daemon's process group (its code server and run workers are in it)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            os.killpg(proc.pid, signal.SIGKILL)  # what the leader left behind
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _runs(home: Path) -> list:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records()
        out = []
        for r in records:
            run = r.dagster_run
            failures = [e.dagster_event.step_failure_data.error for e in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]
            why = " ".join((f.cause.message if f.cause else f.message) for f in failures if f)
            wave = run.tags.get("dagster/partition") or run.tags.get("dagster/asset_partition_range_start", "?")
            steps = sorted({e.step_key for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)})
            out.append((run.tags.get("dagster/sensor_name", "turing run"), run.status.value, why, wave, steps))
        return out


def daemon_ticks_and_runs(ctx: Ctx) -> Row:
    """The daemon (sensors running, the run queue) and `turing run` started together on a new
    DAGSTER_HOME, then a second batch of postings that the sensor and a second `turing run` race for."""
    env = ctx.env("daemon", request_seconds=0.01)
    workflows = env.root / "workflows"  # branchy alone: no other workflow's sensor and runs to wait for
    workflows.mkdir()
    (workflows / "branchy.yaml").write_text((WORKFLOWS / "branchy.yaml").read_text())
    env.env["TURING_WORKFLOWS_DIR"] = str(workflows)
    env.load(12)
    home = _new_home(env)
    (env.root / "workspace.yaml").write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "turing_dagster.definitions", "location_name": "turing", "working_directory": str(ROOT)}}]}))
    daemon_env = {**env.env, "DAGSTER_HOME": str(home), "TURING_SENSOR_INTERVAL_SECONDS": "1",
                  "TURING_SENSORS_RUNNING": "1"}
    log = env.root / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen([str(DAEMON), "run", "-w", str(env.root / "workspace.yaml")], cwd=env.root,
                                  env=daemon_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    results = []
    try:
        results.append(env.turing("run", "branchy", DAGSTER_HOME=str(home)))
        before = _waves(env)
        env.load_more(12)  # new postings while the daemon ticks: the sensor admits them into a wave and
        end = time.monotonic() + 30  # asks for a run, which a second `turing run` races to the claim
        while _waves(env) == before and time.monotonic() < end:
            time.sleep(0.1)
        results.append(env.turing("run", "branchy", DAGSTER_HOME=str(home)))
        deadline = time.monotonic() + (90 if ctx.fast else 120)
        while time.monotonic() < deadline and daemon.poll() is None:
            runs = _runs(home)
            if env.measure()[0] == 0 and all(r[1] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
                break
            time.sleep(1)
        alive = daemon.poll() is None
    finally:
        _stop(daemon)
    runs = _runs(home)
    final = env.turing("run", "branchy", DAGSTER_HOME=str(home))
    info = subprocess.run([str(DAGSTER), "instance", "info"], env={**env.env, "DAGSTER_HOME": str(home)},
                          capture_output=True, text=True, timeout=120)
    by_sensor = [r for r in runs if r[0] != "turing run"]
    # a run that lost the claim race fails at its first step saying so, and did nothing
    bad = [r for r in runs if r[1] not in ("SUCCESS", "FAILURE") or (r[1] == "FAILURE" and BUSY not in r[2])]
    # one step per run, whoever started it: the workflow's conversations back to back
    steps = sorted({key for r in runs for key in r[4]})
    codes = [r.returncode for r in results]
    ok = (alive and by_sensor and set(codes) <= {0, 3} and final.returncode == 0 and info.returncode == 0
          and not bad and steps == [STEP]
          and all(_clean(r.stderr) and len(r.stderr.strip().splitlines()) <= 1 for r in results))
    statuses = sorted(f"{wave} {status}{' (lost the claim race)' if BUSY in why else ''}"
                      for _, status, why, wave, _ in by_sensor)
    losers = [r for r in results if r.returncode]
    message = (f"daemon: {len(by_sensor)} sensor run(s) {', '.join(statuses) or '-'}; turing run exits {codes}; "
               f"{len(runs)} Dagster runs, step(s) {', '.join(steps)}"
               + (f", {_one_line(losers[0])}" if losers else ""))
    if not alive:
        message = f"the daemon exited ({daemon.returncode}): {_tail(log)}"
    elif bad:
        message = f"run {bad[0][0]} {bad[0][1]}: {bad[0][2][:80]}"
    return _row(env, "dagster-daemon's sensor + 2 turing runs, new DAGSTER_HOME", ok, message[:150])


def _waves(env: Env) -> int:
    with env.engine().connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM waves")).scalar_one()


def _tail(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:100] if lines else "(no output)"
