"""Waves: batches of postings admitted together into a workflow (a Dagster dynamic partition each)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from turing_dagster.store.engine import batched
from turing_dagster.store.schema import postings, wave_postings, waves


@dataclass(frozen=True)
class Wave:
    key: str
    posting_ids: tuple[str, ...]


def wave_key(seq: int) -> str:
    # zero-padded so that lexical order is admission order, as Dagster lists dynamic partitions
    return f"w{seq:06d}"


def _pending_query(workflow_id: int) -> sa.Select:
    admitted = sa.select(wave_postings.c.posting_id).where(wave_postings.c.workflow_id == workflow_id)
    return sa.select(postings.c.posting_id, postings.c.created_at).where(
        postings.c.enabled.is_(True), postings.c.posting_id.not_in(admitted)
    )


def pending_summary(engine: sa.Engine, workflow_id: int) -> tuple[int, dt.datetime | None]:
    """How many enabled postings wait for a wave, and when the oldest of them arrived."""
    sub = _pending_query(workflow_id).subquery()
    with engine.connect() as conn:
        count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(sub.c.created_at))).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.timezone.utc)  # SQLite returns naive UTC
    return count, oldest


def pending_batches(engine: sa.Engine, workflow_id: int, size: int) -> Iterator[list[str]]:
    """The enabled postings no wave holds yet, in the order `admit` takes them, `size` at a time: the waves a
    run would admit them into (read as a stream, so memory stays at a batch however long the backlog)."""
    query = _pending_query(workflow_id).order_by(postings.c.created_at, postings.c.posting_id)
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=size).execute(query)
        for part in rows.partitions(size):
            yield [row.posting_id for row in part]


def admit(engine: sa.Engine, workflow_id: int, max_size: int) -> list[Wave]:
    """Put every pending posting into new waves of at most `max_size`, in arrival order."""
    if max_size < 1:
        raise ValueError("wave size must be at least 1")
    with engine.begin() as conn:
        pending = [
            row.posting_id
            for row in conn.execute(_pending_query(workflow_id).order_by(postings.c.created_at, postings.c.posting_id))
        ]
        if not pending:
            return []
        last = conn.execute(
            sa.select(sa.func.count()).select_from(waves).where(waves.c.workflow_id == workflow_id)
        ).scalar_one()
        admitted: list[Wave] = []
        for index, part in enumerate(batched(pending, max_size)):
            key = wave_key(last + index + 1)
            conn.execute(
                sa.insert(waves).values(
                    # microseconds from here, not the server's second-resolution default: store_token
                    workflow_id=workflow_id, wave_key=key, posting_count=len(part), created_at=dt.datetime.now(dt.timezone.utc)
                )
            )
            conn.execute(
                sa.insert(wave_postings),
                [{"workflow_id": workflow_id, "wave_key": key, "posting_id": pid} for pid in part],
            )
            admitted.append(Wave(key, tuple(part)))
        return admitted


def wave_keys(engine: sa.Engine, workflow_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(waves.c.wave_key).where(waves.c.workflow_id == workflow_id).order_by(waves.c.wave_key)
            ).scalars()
        )


def unregistered_waves(engine: sa.Engine, workflow_id: int, known: set[str], older_than_seconds: float) -> list[str]:
    """Waves the Dagster instance has not heard of, admitted at least `older_than_seconds` ago."""
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=older_than_seconds)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(waves.c.wave_key, waves.c.created_at).where(waves.c.workflow_id == workflow_id)
        ).all()
    found = []
    for key, created in rows:
        created = created if created.tzinfo else created.replace(tzinfo=dt.timezone.utc)
        if key not in known and created <= cutoff:
            found.append(key)
    return sorted(found)


def store_token(engine: sa.Engine, workflow_id: int) -> str:
    """Tells this store's waves from a former store's waves of the same keys (a reset database)."""
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(waves.c.created_at)).where(waves.c.workflow_id == workflow_id)).scalar()
    return first.strftime("%Y%m%d%H%M%S%f") if first else "none"


def wave_members(engine: sa.Engine, workflow_id: int, keys: Sequence[str]) -> dict[str, list[str]]:
    """{wave_key: [posting_id, ...]} for the given waves (sorted keys, postings in id order)."""
    members: dict[str, list[str]] = {key: [] for key in sorted(keys)}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(wave_postings.c.wave_key, wave_postings.c.posting_id)
            .where(wave_postings.c.workflow_id == workflow_id, wave_postings.c.wave_key.in_(list(keys)))
            .order_by(wave_postings.c.wave_key, wave_postings.c.posting_id)
        )
        for key, pid in rows:
            members[key].append(pid)
    return members


def load_postings(engine: sa.Engine, posting_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Posting rows with their extra fields merged in, as prompts and actors see them.

    A column wins when it has a value; an empty one (say `language` before a step saved it) shows
    the file's own field of that name instead of hiding it.
    """
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for part in batched(list(posting_ids)):
            for row in conn.execute(sa.select(postings).where(postings.c.posting_id.in_(part))):
                data = row._asdict()
                extra = data.pop("extra") or {}
                found[row.posting_id] = {**extra, **{k: v for k, v in data.items() if v is not None or k not in extra}}
    return found
