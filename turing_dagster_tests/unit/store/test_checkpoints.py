"""The checkpoint store on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from turing_dagster.store.checkpoints import Checkpoint, checkpoints_for, write_chunk
from turing_dagster.store.migrate import current_version, upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import SCHEMA_VERSION, conversations, posting_state_checkpoints, postings

WF = 3001


def _postings(engine, n=5):
    upsert_postings(
        engine, [{"posting_id": f"h{i:03d}", "job_title": f"Job {i}", "job_description": "text", "extra": {}} for i in range(n)]
    )
    with engine.begin() as conn:
        conn.execute(
            sa.insert(conversations),
            [
                {"conversation_id": 3335, "canonical_name": "gemma3_extract", "actor": "gemma3:4b", "conversation_type": "llm"},
                {"conversation_id": 3336, "canonical_name": "gemma2_grade", "actor": "gemma2", "conversation_type": "llm"},
            ],
        )


def _cp(pid, conv, output="out", status="completed", nxt=None):
    return Checkpoint(pid, conv, status, output, nxt, code_version="v1", wave_key="w000001")


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(
                posting_state_checkpoints.c.posting_id,
                posting_state_checkpoints.c.conversation_id,
                posting_state_checkpoints.c.output,
            ).order_by(posting_state_checkpoints.c.checkpoint_id)
        ).all()


def test_upgrade_is_idempotent_and_records_the_version(engine):
    assert upgrade(engine) == (SCHEMA_VERSION, SCHEMA_VERSION)
    with engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION


def test_writing_the_same_chunk_twice_leaves_one_row_per_step(engine):
    _postings(engine)
    chunk = [_cp(f"h{i:03d}", 3335, nxt=3336) for i in range(5)]
    write_chunk(engine, WF, chunk)
    write_chunk(engine, WF, chunk)
    assert len(_rows(engine)) == 5
    # a rerun with new output replaces the row, and its checkpoint_id moves past the others
    write_chunk(engine, WF, [_cp("h002", 3335, output="again", nxt=3336)])
    rows = _rows(engine)
    assert len(rows) == 5
    assert rows[-1] == ("h002", 3335, "again")


def test_a_failure_inside_a_chunk_write_leaves_none_of_it(engine):
    _postings(engine)
    write_chunk(engine, WF, [_cp("h000", 3335, output="kept")])
    bad = [_cp("h000", 3335, output="replacement"), _cp("h001", 3335), _cp("h002", 3335, status="exploded")]
    with pytest.raises(sa.exc.IntegrityError):
        write_chunk(engine, WF, bad, posting_updates=[("h001", "extracted_summary", "half")])
    assert _rows(engine) == [("h000", 3335, "kept")]
    with engine.connect() as conn:
        assert conn.execute(sa.select(postings.c.extracted_summary).where(postings.c.posting_id == "h001")).scalar() is None


def test_save_to_is_written_with_the_checkpoint(engine):
    _postings(engine)
    write_chunk(engine, WF, [_cp("h001", 3335, output="A summary")], posting_updates=[("h001", "extracted_summary", "A summary")])
    with engine.connect() as conn:
        assert conn.execute(sa.select(postings.c.extracted_summary).where(postings.c.posting_id == "h001")).scalar() == "A summary"


def test_reads_the_latest_row_per_posting_and_conversation(engine):
    _postings(engine)
    write_chunk(engine, WF, [_cp("h000", 3335, output="summary 0", nxt=3336), _cp("h001", 3335, output="summary 1", nxt=3336)])
    write_chunk(engine, WF, [_cp("h000", 3336, output="PASS", nxt=None)])
    found = checkpoints_for(engine, WF, ["h000", "h001"], [3335, 3336])
    assert {k: cp.output for k, cp in found.items()} == {
        ("h000", 3335): "summary 0", ("h000", 3336): "PASS", ("h001", 3335): "summary 1",
    }
    assert found[("h000", 3336)].next_conversation_id is None and found[("h001", 3335)].next_conversation_id == 3336
    assert checkpoints_for(engine, WF, ["h000"], [3336])[("h000", 3336)].output == "PASS"


def test_a_failed_row_keeps_its_reason_and_stays_at_its_conversation(engine):
    _postings(engine)
    write_chunk(engine, WF, [Checkpoint("h003", 3335, "failed", None, 3335, error="boom", code_version="v1")])
    row = checkpoints_for(engine, WF, ["h003"], [3335])[("h003", 3335)]
    assert (row.status, row.output, row.error, row.next_conversation_id) == ("failed", None, "boom", 3335)


def test_members_only_drops_results_of_postings_that_left_their_wave(engine):
    from turing_dagster.store.waves import admit

    _postings(engine)
    admit(engine, WF, 10)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM wave_postings WHERE posting_id = 'h001'"))  # reloaded meanwhile
    chunk = [_cp("h000", 3335), _cp("h001", 3335)]
    assert write_chunk(engine, WF, chunk, [("h001", "extracted_summary", "stale")], members_only=True) == 1
    assert [r[0] for r in _rows(engine)] == ["h000"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(postings.c.extracted_summary).where(postings.c.posting_id == "h001")).scalar() is None
