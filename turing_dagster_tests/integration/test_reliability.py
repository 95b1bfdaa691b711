"""Issue 8 from the shell: the loser of two runs, SIGTERM mid-run, a database that drops its connections."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from turing_dagster.simulator import FaultConfig, ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster_tests.integration.helpers import assert_routed_by_rules, make_postings, rows, workflow
from turing_dagster_tests.integration.test_shell_and_recovery import ROOT, TURING, _env


def repeated_requests(sim) -> int:
    """Chat requests the simulator received more than once, word for word (a re-ask carries the bad answer;
    model loads carry no messages and are not answers)."""
    seen = Counter(
        (body.get("model"), json.dumps(body["messages"], sort_keys=True)) for body in sim.requests() if body.get("messages")
    )
    return sum(n - 1 for n in seen.values())


def _count(engine, query: str) -> int:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()
    except sa.exc.DBAPIError:
        return 0


def _wait_for_rows(engine, proc, conversation_id: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r.conversation_id == conversation_id for r in rows(engine)):
            return
        time.sleep(0.02)


def test_the_loser_of_two_runs_exits_3_and_sigterm_ends_a_run_in_one_line(engine, instance, db_url, workflows_dir):
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.05, request_seconds=0.25), parallel=2)
    with start_simulator(config, port=0) as sim:
        ids = make_postings(engine, 30)
        env = _env(db_url, sim.url, TURING_CHUNK_SIZE="3", DAGSTER_HOME=os.environ["DAGSTER_HOME"])
        first = subprocess.Popen([*TURING, "run", "branchy"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        _wait_for_rows(engine, first, 902)
        assert first.poll() is None, "the first run finished too early"

        second = subprocess.run([*TURING, "run", "branchy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
        assert second.returncode == 3, second.stderr
        assert second.stderr.strip().splitlines() == [
            "error: another run is processing branchy (w000001): run again when it is done"
        ]
        assert "per step" not in second.stdout and "Traceback" not in second.stderr

        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 130
        assert err.strip().splitlines() == [
            "interrupted: branchy stopped; committed results are kept and `turing run branchy` continues from there"
        ]
        partial = len(rows(engine))

        again = subprocess.run([*TURING, "run", "branchy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
        assert again.returncode == 0, again.stderr[-2000:]
    assert 0 < partial < len(rows(engine))
    assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)  # nothing half-written, nothing twice
    dagster_runs = instance.get_runs()
    assert not any(r.status.value == "STARTED" for r in dagster_runs)  # the interrupted run is not left running


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_database_connections_terminated_mid_run_lose_and_repeat_nothing(engine, instance, sim, db_url, workflows_dir):
    """What a PostgreSQL restart looks like to the client: every connection of the store's database is
    terminated by the server, again and again, while the run writes its chunks."""
    from turing_dagster_tests.integration.helpers import run

    sim.set_faults(FaultConfig())
    ids = make_postings(engine, 40)
    admin = sa.create_engine(sa.make_url(db_url).set(username="postgres", password=None, database="postgres"),
                             isolation_level="AUTOCOMMIT")
    database = sa.make_url(db_url).database
    stop, killed = threading.Event(), []

    def terminate() -> None:
        watch = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
        # from the first LLM step on: mid-run, while chunks are being written
        while not stop.is_set() and not _count(watch, "SELECT count(*) FROM posting_state_checkpoints"):
            time.sleep(0.01)
        watch.dispose()
        with admin.connect() as conn:
            while not stop.is_set():  # outages of 0.3 s, a second apart, until the run ends
                outage = time.monotonic() + 0.3
                while time.monotonic() < outage:
                    killed.extend(conn.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ), {"db": database}).scalars())
                    time.sleep(0.005)
                stop.wait(1.0)

    killer = threading.Thread(target=terminate, daemon=True)
    os.environ["TURING_CHUNK_SIZE"] = "3"
    killer.start()
    try:
        report = run(engine, instance)
    finally:
        stop.set()
        killer.join(timeout=30)
        admin.dispose()
        os.environ.pop("TURING_CHUNK_SIZE", None)
    assert report.ok, report.failures
    assert len(killed) > 0
    assert_routed_by_rules(WorkflowPlan(workflow()), engine, ids)  # 0 lost, no duplicate checkpoint
    assert repeated_requests(sim) == 0  # no chunk asked again: the answers in flight were kept
    retried = [
        e for e in instance.all_logs(report.run_ids[0])
        if e.user_message and "database connection lost during" in e.user_message
    ]
    assert retried, "no write was hit by a terminated connection: the test proved nothing"
