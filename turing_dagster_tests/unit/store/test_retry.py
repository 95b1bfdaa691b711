"""Which database errors are a lost connection worth retrying, and the retry's bound."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from turing_dagster.store.retry import connection_lost, with_reconnect

REFUSED = "postgresql+psycopg2://turing:pw@127.0.0.1:9/nothing"  # nothing listens on port 9


def _refused() -> None:
    engine = sa.create_engine(REFUSED)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def test_a_refused_connection_is_retried_then_given_up(tmp_path):
    calls = []

    def action():
        calls.append(1)
        _refused()

    with pytest.raises(sa.exc.OperationalError) as err:
        with_reconnect(action, "a test", attempts=3, first_wait=0, on_retry=lambda _: None)
    assert connection_lost(err.value) and len(calls) == 3


def test_the_write_succeeds_once_the_server_is_back(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    calls, said = [], []

    def action():
        calls.append(1)
        if len(calls) == 1:
            _refused()  # the server is restarting
        with engine.begin() as conn:
            return conn.execute(sa.text("SELECT 42")).scalar_one()

    assert with_reconnect(action, "a chunk write", first_wait=0, on_retry=said.append) == 42
    assert len(calls) == 2 and said[0].startswith("database connection lost during a chunk write")


def test_a_wrong_statement_is_not_retried(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    calls = []

    def action():
        calls.append(1)
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table"))

    with pytest.raises(sa.exc.OperationalError) as err:
        with_reconnect(action, "a test", first_wait=0)
    assert not connection_lost(err.value) and len(calls) == 1
