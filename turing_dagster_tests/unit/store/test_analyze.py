"""A young store's planner statistics (store/analyze.py): analyzed once it outgrew them, not on every read."""

from __future__ import annotations

import sqlalchemy as sa

from turing_dagster.steps.progress import step_versions
from turing_dagster.store.analyze import MIN_PAGES, analyze_if_grown
from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.standing import wave_standings
from turing_dagster.store.waves import admit
from turing_dagster_tests.unit.store.test_standing import _plan


def _relpages(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT relpages FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}).scalar()


def _fill(engine, plan, n: int, start: int = 0) -> str:
    """n postings with a checkpoint at every step (outputs of 400 characters): past MIN_PAGES on disk."""
    ids = [f"p{i:05d}" for i in range(start, start + n)]
    upsert_postings(engine, [{"posting_id": p, "job_title": "t", "job_description": "d"} for p in ids])
    (wave,) = admit(engine, 77, n)
    write_chunk(engine, 77, [Checkpoint(p, s.conversation.conversation_id, "completed", "o" * 400, None, s.version,
                                        wave.key) for p in ids for s in plan.steps])
    return wave.key


def test_a_store_that_outgrew_its_statistics_is_analyzed_once_until_it_doubles(pg_url):
    engine = get_engine(pg_url)
    upgrade(engine)
    plan = _plan()
    assert analyze_if_grown(engine) == []  # empty tables: nothing a plan could get wrong
    wave = _fill(engine, plan, 600)
    assert _relpages(engine, "posting_state_checkpoints") == 0  # never measured: PostgreSQL plans blind
    # the standings reader has the tables it joins measured before its query
    assert len(wave_standings(engine, 77, step_versions(plan), wave)) == 600
    measured = _relpages(engine, "posting_state_checkpoints")
    assert measured > MIN_PAGES
    assert analyze_if_grown(engine) == []  # measured: the next reads query at once
    _fill(engine, plan, 300, start=600)  # grew by half: still autovacuum's to notice
    assert analyze_if_grown(engine) == [] and _relpages(engine, "posting_state_checkpoints") == measured
    _fill(engine, plan, 1200, start=900)  # more than doubled
    assert analyze_if_grown(engine) == ["posting_state_checkpoints"]
    assert _relpages(engine, "posting_state_checkpoints") > 2 * measured


def test_sqlite_is_left_to_its_own_planner(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'turing.db'}")
    upgrade(engine)
    _fill(engine, _plan(), 600)
    assert analyze_if_grown(engine) == []
    with engine.connect() as conn:  # no ANALYZE ran: SQLite keeps its statistics in sqlite_stat1
        assert not conn.execute(sa.text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).all()


def test_a_table_locked_by_a_vacuum_is_not_waited_for(pg_url):
    engine = get_engine(pg_url)
    upgrade(engine)
    _fill(engine, _plan(), 600)
    blocker = sa.create_engine(pg_url)
    try:
        with blocker.connect() as conn, conn.begin():
            # the lock a VACUUM holds (and an ANALYZE needs): this one is never cancelled for us
            conn.exec_driver_sql("LOCK TABLE posting_state_checkpoints IN SHARE UPDATE EXCLUSIVE MODE")
            assert analyze_if_grown(engine) == []  # gave up after its lock timeout; the query runs unplanned
            assert _relpages(engine, "posting_state_checkpoints") == 0
    finally:
        blocker.dispose()
    assert analyze_if_grown(engine) == ["posting_state_checkpoints"]  # the next reader does it
