"""The old system's debugging query runs unchanged on PostgreSQL against our checkpoints."""

from __future__ import annotations

import sqlalchemy as sa

from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import conversations, workflow_conversations, workflows

# verbatim from the seed notes, parameter style aside
OLD_DEBUG_QUERY = """
    SELECT
        c.canonical_name,
        wc.execution_order,
        COUNT(*) as count
    FROM posting_state_checkpoints psc
    JOIN postings p ON psc.posting_id = p.posting_id
    LEFT JOIN conversations c ON (psc.state_snapshot->>'current_conversation_id')::int = c.conversation_id
    LEFT JOIN workflow_conversations wc ON c.conversation_id = wc.conversation_id AND wc.workflow_id = 3001
    WHERE p.enabled = TRUE
      AND p.extracted_summary IS NULL
      AND psc.checkpoint_id IN (SELECT MAX(checkpoint_id) FROM posting_state_checkpoints GROUP BY posting_id)
    GROUP BY c.canonical_name, wc.execution_order
    ORDER BY execution_order
"""


def test_old_debugging_query_counts_postings_by_where_they_wait(pg_url):
    engine = get_engine(pg_url)
    upgrade(engine)
    upsert_postings(
        engine,
        [{"posting_id": f"p{i}", "job_title": "t", "job_description": "d", "extra": {}} for i in range(7)]
        + [{"posting_id": "off", "job_title": "t", "job_description": "d", "enabled": False, "extra": {}}],
    )
    with engine.begin() as conn:
        conn.execute(sa.insert(workflows).values(workflow_id=3001, name="job_posting_pipeline"))
        conn.execute(
            sa.insert(conversations),
            [
                {"conversation_id": 3335, "canonical_name": "gemma3_extract", "actor": "gemma3:4b", "conversation_type": "llm"},
                {"conversation_id": 3336, "canonical_name": "gemma2_grade", "actor": "gemma2", "conversation_type": "llm"},
            ],
        )
        conn.execute(
            sa.insert(workflow_conversations),
            [
                {"workflow_id": 3001, "conversation_id": 3335, "execution_order": 3},
                {"workflow_id": 3001, "conversation_id": 3336, "execution_order": 4},
            ],
        )

    def cp(pid, conv, nxt, status="completed"):
        return Checkpoint(pid, conv, status, "x", nxt, code_version="v")

    # p0-p2 wait at 3335 (failed there: it is still owed), p3-p5 went on to 3336, p6 is done;
    # an older checkpoint of p3 pointing elsewhere must not count
    write_chunk(engine, 3001, [cp("p3", 3335, 3336)])
    write_chunk(engine, 3001, [cp(f"p{i}", 3335, 3335, "failed") for i in range(3)] + [cp("off", 3335, 3335, "failed")])
    write_chunk(engine, 3001, [cp("p4", 3335, 3336), cp("p5", 3335, 3336), cp("p6", 3335, 3336)])
    write_chunk(engine, 3001, [cp("p6", 3336, None)])
    write_chunk(engine, 3001, [cp("p3", 3335, 3336)])  # rewritten: newest row for p3

    with engine.connect() as conn:
        rows = conn.execute(sa.text(OLD_DEBUG_QUERY)).all()
    assert [(r.canonical_name, r.execution_order, r.count) for r in rows] == [
        ("gemma3_extract", 3, 3),
        ("gemma2_grade", 4, 3),
        (None, None, 1),
    ]
