"""Wave claims: one run at a time works on a wave, whoever launched it (UI, sensor, turing run)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.store.schema import waves

CLAIM_SECONDS = 600  # renewed every minute while the run lives; a holder on another host that died frees it then
RENEW_SECONDS = 60


class WaveBusyError(Exception):
    """Another live run holds one of the waves."""


@dataclass(frozen=True)
class Claim:
    wave_key: str
    holder: str
    until: dt.datetime


def holder_for(run_id: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def holder_alive(holder: str) -> bool:
    """A holder on this host is alive while its process is; elsewhere we trust the expiry."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def busy_claims(engine: sa.Engine, workflow_id: int, keys: Sequence[str], holder: str = "") -> list[Claim]:
    """Claims on these waves held by another live, unexpired holder."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(waves.c.wave_key, waves.c.claimed_by, waves.c.claimed_until).where(
                waves.c.workflow_id == workflow_id, waves.c.wave_key.in_(list(keys)), waves.c.claimed_by.is_not(None)
            )
        ).all()
    now = _now()
    return [Claim(key, by, until) for key, by, until in rows if by != holder and _holds(by, until, now)]


def _holds(by: str, until: dt.datetime | None, now: dt.datetime) -> bool:
    """A live process on this host holds whatever the clock says; others until their claim expires."""
    host = by.partition(":")[0]
    if host == socket.gethostname():
        return holder_alive(by)
    return until is not None and until > now


def claim(engine: sa.Engine, workflow_id: int, keys: Sequence[str], holder: str) -> list[str]:
    """Take (or renew) every wave for `holder`, all or none; WaveBusyError names who has one.

    Returns the keys this store does not have (a Dagster partition left from a reset database):
    there is nothing to claim or process for them.
    """
    with engine.connect() as conn:
        present = set(
            conn.execute(
                sa.select(waves.c.wave_key).where(waves.c.workflow_id == workflow_id, waves.c.wave_key.in_(list(keys)))
            ).scalars()
        )
    missing = [k for k in keys if k not in present]
    keys = [k for k in keys if k in present]
    busy = busy_claims(engine, workflow_id, keys, holder)
    if busy:
        c = busy[0]
        raise WaveBusyError(
            f"wave {c.wave_key} is being processed by {c.holder} (claim until {c.until:%H:%M:%S} UTC); "
            "run again when it is done"
        )
    now = _now()
    with engine.begin() as conn:
        for key in keys:
            current, until = conn.execute(
                sa.select(waves.c.claimed_by, waves.c.claimed_until).where(
                    waves.c.workflow_id == workflow_id, waves.c.wave_key == key
                )
            ).one()
            if not (current is None or current == holder or not _holds(current, until, now)):
                raise WaveBusyError(f"wave {key} was just claimed by {current}; run again when it is done")
            # conditional on the holder we saw: of two runs racing here, only one update matches
            done = conn.execute(
                sa.update(waves)
                .where(
                    waves.c.workflow_id == workflow_id,
                    waves.c.wave_key == key,
                    waves.c.claimed_by.is_(None) if current is None else waves.c.claimed_by == current,
                )
                .values(claimed_by=holder, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
            )
            if done.rowcount != 1:
                raise WaveBusyError(f"wave {key} was just claimed by another run; run again when it is done")
    return missing


def renew(engine: sa.Engine, holder: str) -> int:
    """Extend the holder's claims; returns how many it still has (0: lost, or released)."""
    with engine.begin() as conn:
        return conn.execute(
            sa.update(waves)
            .where(waves.c.claimed_by == holder)
            .values(claimed_until=_now() + dt.timedelta(seconds=CLAIM_SECONDS))
        ).rowcount


def release(engine: sa.Engine, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(waves).where(waves.c.claimed_by == holder).values(claimed_by=None, claimed_until=None))
