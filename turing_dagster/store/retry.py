"""Ride over a lost database connection: a bounded retry of one transaction.

A PostgreSQL restart or a terminated backend kills the connection a chunk's transaction is using;
the results are still in memory, so the chunk is written again once the server answers instead of
failing the step and throwing away the answers in flight. A transaction that failed this way was
rolled back, and writing a chunk replaces its rows, so a retry never duplicates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from turing_dagster.store.engine import first_line

T = TypeVar("T")
log = logging.getLogger(__name__)

ATTEMPTS = 8
FIRST_WAIT = 0.25
MAX_WAIT = 8.0  # 8 attempts: about 30 s in all, what a PostgreSQL restart takes at worst on a busy host
# SQLSTATE classes of a connection that went or a server that is not accepting connections yet
_PG_DISCONNECT_CLASSES = ("08", "57")


def connection_lost(exc: BaseException) -> bool:
    """True when `exc` says the connection or the server went away, not that the statement was wrong."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa.exc.InterfaceError):
        return True
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    code = getattr(exc.orig, "pgcode", None)
    # psycopg2 reports refused and dropped connections with no SQLSTATE at all
    return (code is None and type(exc.orig).__module__.startswith("psycopg")) or (
        code is not None and code[:2] in _PG_DISCONNECT_CLASSES
    )


def with_reconnect(
    action: Callable[[], T],
    what: str,
    attempts: int = ATTEMPTS,
    first_wait: float = FIRST_WAIT,
    on_retry: Callable[[str], None] | None = None,
) -> T:
    """`action()` (one whole transaction), again after a lost connection, at most `attempts` times."""
    wait = first_wait
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except sa.exc.DBAPIError as exc:
            if attempt == attempts or not connection_lost(exc):
                raise
            message = f"database connection lost during {what} ({first_line(exc)}); retrying in {wait:.1f}s ({attempt}/{attempts})"
            (on_retry or log.warning)(message)
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
    raise AssertionError("unreachable")  # the loop returns or raises
