"""One SQLAlchemy engine per database URL per process, with its pool and pre-ping."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa

from turing_dagster import settings

# Keeps IN lists under SQLite's bound-parameter limit and PostgreSQL's planner sweet spot.
_BATCH = 500


def batched(items: Sequence, size: int = _BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


class StoreError(Exception):
    """A store problem a user can fix (bad URL, unreachable server, missing schema)."""


def first_line(exc: BaseException) -> str:
    """A driver's message without its hint lines (psycopg2 spreads one error over several)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_CREDENTIALS = re.compile(r"^((?:[^:/@]+://)?[^:/@]*:).*@")


def redacted_url(url: str) -> str:
    """`url` with its password replaced by ***, even when SQLAlchemy cannot parse it."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return _CREDENTIALS.sub(r"\1***@", url)


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    # WAL lets readers (status, monitor, the UI) proceed while a step commits; the busy timeout
    # covers the sensor and a run writing at the same moment.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str | None = None) -> sa.Engine:
    """The process-wide engine for `url` (default: TURING_DATABASE_URL or the embedded SQLite file)."""
    url = url or settings.database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            _engines[url] = engine
        return engine


def _create(url: str) -> sa.Engine:
    try:
        parsed = sa.make_url(url)
        parsed.port  # noqa: B018 - a non-numeric port fails here, not deep inside the driver
    except (sa.exc.ArgumentError, ValueError) as exc:
        hint = "expected dialect+driver://user:password@host:port/database"
        raise StoreError(f"TURING_DATABASE_URL is not a valid SQLAlchemy URL ({hint}): {redacted_url(url)!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    # psycopg2's executemany sends an UPDATE per row (a step's save_to write-backs: a round trip per
    # posting); execute_batch sends them a page at a time. INSERTs are batched by SQLAlchemy either way.
    batch = {"executemany_mode": "values_plus_batch"} if parsed.get_driver_name() == "psycopg2" else {}
    try:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **batch)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise StoreError(f"no driver for {parsed.drivername!r}: use postgresql+psycopg2://... ({exc})") from exc


def unusable(engine: sa.Engine, exc: sa.exc.DBAPIError) -> StoreError:
    """One line for a database that cannot be opened, naming it (the file, or the URL without password)."""
    path = sqlite_file(engine)
    if path is None:
        return StoreError(f"cannot reach the database: {first_line(exc)}")
    if not isinstance(exc, sa.exc.OperationalError):  # sqlite3.DatabaseError: some other kind of file
        return StoreError(f"{path} is not a SQLite database ({first_line(exc)}): move it aside and run `turing init`, "
                          "or point TURING_STATE_DIR or TURING_DATABASE_URL elsewhere")
    # WAL keeps two files beside the database: its folder must be writable even to read it
    return StoreError(f"cannot open the SQLite database {path} ({first_line(exc)}): it must be a file, in a folder "
                      "this user can write")


def sqlite_file(engine: sa.Engine) -> Path | None:
    """The database file of a SQLite engine (None for other databases and in-memory ones)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def dispose_all() -> None:
    """Close every pooled connection (tests, and after a fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
