"""Wave claims: one live run per wave; dead or expired holders give way; schema v2 adds them."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa

from turing_dagster.store import claims
from turing_dagster.store.migrate import current_version, upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import SCHEMA_VERSION, waves
from turing_dagster.store.waves import admit


@pytest.fixture
def two_waves(engine):
    upsert_postings(engine, [{"posting_id": f"p{i}", "job_title": "t", "job_description": "d", "extra": {}} for i in range(4)])
    return [w.key for w in admit(engine, 1, 2)]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_holder_keeps_others_out_until_it_releases(engine, two_waves):
    me, other = claims.holder_for("run-a"), claims.holder_for("run-b")
    claims.claim(engine, 1, two_waves, me)
    claims.claim(engine, 1, two_waves, me)  # renewing one's own claim is fine
    with pytest.raises(claims.WaveBusyError, match="wave w000001 is being processed by .*run-a"):
        claims.claim(engine, 1, two_waves[:1], other)
    assert [c.wave_key for c in claims.busy_claims(engine, 1, two_waves, other)] == two_waves
    claims.release(engine, me)
    claims.claim(engine, 1, two_waves, other)
    assert claims.busy_claims(engine, 1, two_waves, other) == []


def test_a_dead_local_holder_or_an_expired_claim_gives_way(engine, two_waves):
    host = claims.holder_for("x").split(":")[0]
    dead = f"{host}:{_dead_pid()}:run-dead"
    claims.claim(engine, 1, two_waves[:1], dead)
    claims.claim(engine, 1, two_waves[:1], claims.holder_for("run-new"))  # taken over
    remote = "elsewhere:1:run-remote"  # another host: only its expiry frees it
    claims.claim(engine, 1, two_waves[1:], remote)
    with pytest.raises(claims.WaveBusyError):
        claims.claim(engine, 1, two_waves[1:], claims.holder_for("run-new"))
    with engine.begin() as conn:
        conn.execute(sa.update(waves).values(claimed_until=dt.datetime(2000, 1, 1)))
    claims.claim(engine, 1, two_waves[1:], claims.holder_for("run-new"))


def test_all_or_none(engine, two_waves):
    claims.claim(engine, 1, two_waves[1:], claims.holder_for("run-a"))
    with pytest.raises(claims.WaveBusyError):
        claims.claim(engine, 1, two_waves, claims.holder_for("run-b"))
    with engine.connect() as conn:
        first = conn.execute(sa.select(waves.c.claimed_by).where(waves.c.wave_key == two_waves[0])).scalar()
    assert first is None


def test_upgrade_from_v1_adds_the_claim_columns(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE waves DROP COLUMN claimed_by"))
        conn.execute(sa.text("ALTER TABLE waves DROP COLUMN claimed_until"))
        conn.execute(sa.text("DELETE FROM turing_schema_version WHERE version > 1"))
    assert upgrade(engine) == (1, SCHEMA_VERSION)
    with engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
        columns = {c["name"] for c in sa.inspect(conn).get_columns("waves")}
    assert {"claimed_by", "claimed_until"} <= columns


def test_a_live_local_holder_stays_busy_after_its_claim_expires(engine, two_waves):
    me = claims.holder_for("run-slow")  # this very process: alive
    claims.claim(engine, 1, two_waves, me)
    with engine.begin() as conn:
        conn.execute(sa.update(waves).values(claimed_until=dt.datetime(2000, 1, 1)))
    with pytest.raises(claims.WaveBusyError):
        claims.claim(engine, 1, two_waves, claims.holder_for("run-other"))
    assert claims.renew(engine, me) == 2
    claims.release(engine, me)
    assert claims.renew(engine, me) == 0


def test_keys_the_store_does_not_have_are_returned_not_claimed(engine, two_waves):
    assert claims.claim(engine, 1, [*two_waves, "w000099"], claims.holder_for("r")) == ["w000099"]


def test_upgrade_to_v6_adds_held_counts_and_unsettles_every_wave(engine, two_waves):
    # a wave settled at v5 has no held count: the run after the upgrade looks at it once, then counts from marks
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE waves DROP COLUMN held_postings"))
        conn.execute(sa.update(waves).values(finished_version="v", stale_postings=0))
        conn.execute(sa.text("DELETE FROM turing_schema_version WHERE version > 5"))
    assert upgrade(engine) == (5, SCHEMA_VERSION)
    with engine.connect() as conn:
        assert "held_postings" in {c["name"] for c in sa.inspect(conn).get_columns("waves")}
        assert conn.execute(sa.select(waves.c.finished_version)).scalars().all() == [None, None]
