"""Stored model answers by request key (`llm_answers`): looked up in batches, written with their chunk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from turing_dagster.store.engine import batched
from turing_dagster.store.schema import llm_answers


@dataclass(frozen=True)
class StoredAnswer:
    request_key: str
    model: str
    model_digest: str | None
    output: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int | None = None

    def row(self) -> dict:
        return {
            "request_key": self.request_key, "model": self.model, "model_digest": self.model_digest,
            "output": self.output, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
            "latency_ms": self.latency_ms,
        }


def lookup(engine: sa.Engine, keys: Iterable[str]) -> dict[str, StoredAnswer]:
    """The stored answers among `keys` (read in batches: never every key at once)."""
    wanted = sorted(set(keys))
    found: dict[str, StoredAnswer] = {}
    if not wanted:
        return found
    with engine.connect() as conn:
        for part in batched(wanted):
            for row in conn.execute(sa.select(llm_answers).where(llm_answers.c.request_key.in_(list(part)))):
                found[row.request_key] = StoredAnswer(
                    row.request_key, row.model, row.model_digest, row.output, row.tokens_in, row.tokens_out, row.latency_ms
                )
    return found


def insert_answers(conn: sa.Connection, answers: Sequence[StoredAnswer]) -> None:
    """Add answers in the caller's transaction; a key stored already keeps its first answer."""
    if not answers:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    unique = {a.request_key: a for a in answers}
    conn.execute(insert(llm_answers).on_conflict_do_nothing(index_elements=["request_key"]),
                 [a.row() for a in unique.values()])


class Answers:
    """The stored answers of one database, as steps look them up (steps/llm_side.py AnswerSource)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def lookup(self, keys: Iterable[str]) -> dict[str, StoredAnswer]:
        return lookup(self.engine, keys)

    def latest_digest(self, model: str) -> str | None:
        """The digest the model had when an answer of it was last stored (None: no answer of it yet)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(llm_answers.c.model_digest).where(llm_answers.c.model == model)
                .order_by(llm_answers.c.created_at.desc()).limit(1)
            ).scalar()
