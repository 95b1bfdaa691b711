"""The Dagster instance is created once, safely, however many commands start together."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg

from turing_dagster.dagster_defs.instance import LOCK_FILE, home_lock, register_partitions

ROOT = Path(__file__).resolve().parents[2]
CREATE = "from turing_dagster.dagster_defs.instance import dagster_instance; dagster_instance(); print('created')"


def _waiting_on_flock(pid: int) -> bool:
    # /proc/locks lists a process blocked in flock() with '->' before the lock type
    return any(line.split()[1] == "->" and line.split()[5] == str(pid) for line in Path("/proc/locks").read_text().splitlines()
               if len(line.split()) > 5)


def test_a_second_creator_waits_for_the_first(tmp_path):
    home = tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    with home_lock(home):
        proc = subprocess.Popen([sys.executable, "-c", CREATE], env=env, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not _waiting_on_flock(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        blocked = _waiting_on_flock(proc.pid)
        created_meanwhile = (home / "history").exists()
    out, _ = proc.communicate(timeout=120)
    assert blocked and not created_meanwhile, "the creator did not wait for the lock"
    assert proc.returncode == 0 and out.strip() == "created"
    assert (home / "history" / "runs.db").exists() and (home / LOCK_FILE).exists()


def test_init_creates_the_instance_storage(tmp_path):
    home = tmp_path / "fresh_home"  # not even the folder exists yet
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT), "TURING_STATE_DIR": str(tmp_path / "s")}
    env.pop("TURING_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", "from turing_dagster.cli import main; main(['init'])"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"dagster instance ready in {home}" in done.stdout
    assert (home / "dagster.yaml").exists() and (home / "history" / "runs.db").exists()
    assert (home / "schedules" / "schedules.db").exists()


def _add(args: tuple[str, str, float, bool]) -> str:
    home, key, start, tolerant = args
    os.environ["DAGSTER_HOME"] = home
    instance = dg.DagsterInstance.get()
    while time.time() < start:  # line the processes up on the same instant
        pass
    try:
        if tolerant:
            register_partitions(instance, "race_waves", [key])
        else:
            instance.add_dynamic_partitions("race_waves", [key])
        return "ok"
    except Exception as exc:  # what the loser of Dagster's check-then-insert sees
        return type(exc).__name__


def test_partitions_added_by_several_processes_at_once_are_all_there(tmp_path):
    home = tmp_path / "dagster_home"
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        instance.get_dynamic_partitions("race_waves")  # storage created before the race
    outcomes: Counter = Counter()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        for round_ in range(8):
            start = time.time() + 0.3
            outcomes.update(pool.map(_add, [(str(home), f"w{round_}", start, True)] * 4))
    assert outcomes == Counter(ok=32)
    with dg.DagsterInstance.get() as instance:
        assert sorted(instance.get_dynamic_partitions("race_waves")) == [f"w{i}" for i in range(8)]

