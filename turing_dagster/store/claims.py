"""Wave claims: one run at a time works on a wave, whoever launched it (UI, sensor, turing run)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from turing_dagster.store.schema import waves

CLAIM_SECONDS = 600  # renewed with every committed chunk; a holder on another host that died frees it then


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
    return [
        Claim(key, by, until)
        for key, by, until in rows
        if by != holder and until is not None and until > now and holder_alive(by)
    ]


def claim(engine: sa.Engine, workflow_id: int, keys: Sequence[str], holder: str) -> None:
    """Take (or renew) every wave for `holder`, all or none; WaveBusyError names who has one."""
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
            # conditional: of two runs racing past the check above, only one update matches
            stale = conn.execute(
                sa.select(waves.c.claimed_by).where(waves.c.workflow_id == workflow_id, waves.c.wave_key == key)
            ).scalar()
            done = conn.execute(
                sa.update(waves)
                .where(
                    waves.c.workflow_id == workflow_id,
                    waves.c.wave_key == key,
                    sa.or_(
                        waves.c.claimed_by.is_(None),
                        waves.c.claimed_by == holder,
                        waves.c.claimed_until < now,
                        waves.c.claimed_by == (stale if stale and not holder_alive(stale) else None),
                    ),
                )
                .values(claimed_by=holder, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
            )
            if done.rowcount != 1:
                raise WaveBusyError(f"wave {key} was just claimed by another run; run again when it is done")


def renew(engine: sa.Engine, workflow_id: int, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(waves)
            .where(waves.c.workflow_id == workflow_id, waves.c.claimed_by == holder)
            .values(claimed_until=_now() + dt.timedelta(seconds=CLAIM_SECONDS))
        )


def release(engine: sa.Engine, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(waves).where(waves.c.claimed_by == holder).values(claimed_by=None, claimed_until=None))
