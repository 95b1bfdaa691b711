"""PostgreSQL's planner statistics kept up with a young store's growth.

Autovacuum analyzes a table a minute or more after a tenth of it changed. A fresh store, or one right
after a large import, has its first runs planned with no statistics or with those of a table a fraction
of its size, and the standings query (store/standing.py) then joins the checkpoints through an index
that matches half its key, reading all of a conversation's rows for each posting: 0.8 s instead of
0.03 s for a wave of 900 postings, and more with every row the table holds. So before a standings
query, the tables it joins are analyzed when they have more than doubled on disk since PostgreSQL last
measured them. That happens a few times in a store's life (about once per doubling, and a big table
doubles rarely), never on every run; autovacuum keeps a grown store's statistics current.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from turing_dagster.store.schema import posting_state_checkpoints, wave_postings

log = logging.getLogger(__name__)

TABLES = (posting_state_checkpoints, wave_postings)
MIN_PAGES = 64  # 512 KB: below this a plan without statistics is cheap whatever it is
LOCK_TIMEOUT_MS = 1000

# the tables (found through the search path, as every query of ours) larger on disk than twice what
# PostgreSQL last measured
_GROWN = sa.text(
    "SELECT c.relname FROM pg_class c WHERE c.oid IN ("
    + ", ".join(f"to_regclass(:t{i})" for i in range(len(TABLES)))
    + ") AND pg_relation_size(c.oid) / current_setting('block_size')::int > 2 * c.relpages + :min_pages"
)
_PARAMS = {**{f"t{i}": t.name for i, t in enumerate(TABLES)}, "min_pages": MIN_PAGES}


def analyze_if_grown(engine: sa.Engine) -> list[str]:
    """ANALYZE the standings' tables that more than doubled since their statistics were taken; the names
    analyzed. PostgreSQL only. An error leaves the plan to autovacuum; a role that may not analyze gets
    PostgreSQL's warning and the same check next time (one catalog query)."""
    if engine.dialect.name != "postgresql":
        return []
    try:
        with engine.begin() as conn:
            grown = list(conn.execute(_GROWN, _PARAMS).scalars())
            if grown:
                # an anti-wraparound VACUUM, never cancelled for us, holds the lock ANALYZE needs: never wait on it
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                quote = engine.dialect.identifier_preparer.quote
                conn.exec_driver_sql("ANALYZE " + ", ".join(quote(name) for name in grown))
        return grown
    except sa.exc.DBAPIError as exc:  # an optimisation: the query that follows runs either way
        log.debug("planner statistics not refreshed: %s", exc)
        return []
