"""`turing run` when a database goes away around its Dagster runs: Turing's store is retried,
Dagster's storage failing is one line."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from turing_dagster.dagster_defs import runner
from turing_dagster.dagster_defs.runner import run_workflow
from turing_dagster.settings import DagsterHomeError
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.workflows.loader import load_workflows
from turing_dagster_tests.conftest import WORKFLOWS
from turing_dagster_tests.integration.helpers import make_postings, run


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'turing.db'}"
    monkeypatch.setenv("TURING_DATABASE_URL", url)
    engine = get_engine(url)
    upgrade(engine)
    make_postings(engine, 3)
    return engine


def test_a_connection_lost_after_the_runs_is_retried(store, instance, workflows_dir, monkeypatch):
    # the runs are done; marking what they finished meets a PostgreSQL restart: retried, not exit 1
    calls, real = [], runner.settle

    def restarting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                                          connection_invalidated=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "settle", restarting)
    report = run(store, instance, name="pyonly")
    assert report.ok and report.run_ids and len(calls) == 2


class _StorageGone:
    """A job whose run dies in Dagster's own storage, as when its PostgreSQL stays away longer than
    dagster-postgres retries a connection."""

    def execute_in_process(self, **_):
        from dagster_postgres.utils import DagsterPostgresException

        try:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception(
                'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs the server running?'))
        except sa.exc.OperationalError as exc:
            raise DagsterPostgresException("too many retries for DB connection") from exc


def test_dagster_storage_lost_during_a_run_is_one_line(store, instance):
    engine = store
    wf = next(w for w in load_workflows(WORKFLOWS) if w.name == "pyonly")
    with pytest.raises(DagsterHomeError) as lost:
        run_workflow(engine, wf, _StorageGone(), instance, 10, echo=lambda _: None)
    assert str(lost.value).splitlines() == [
        f"DAGSTER_HOME={instance.root_directory}: Dagster's storage failed during the run (too many retries for DB "
        'connection: connection to server at "127.0.0.1", port 5432 failed: Connection refused); committed chunks '
        "are kept and the next `turing run` continues from there"
    ]
