"""What each step of each run did (`run_steps`): written when a step ends, read by the GPU timeline
(`turing report`, the run's last step) and by `turing plan` (the model time calls took before)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from turing_dagster.store.schema import run_steps

RECENT_STEPS = 50  # the model time per call is judged from a model's latest steps


class StepRecord(Protocol):
    """What a step hands over (steps/run_step.py StepReport)."""

    waves: list[str]
    started: float
    finished: float
    model_seconds: float | None
    records: list

    def counts(self) -> dict[str, Any]: ...

    @property
    def workflow_id(self) -> int: ...

    @property
    def conversation_id(self) -> int: ...

    @property
    def model(self) -> str | None: ...


def _compact(record: Any) -> dict[str, Any]:
    data = record.as_dict()
    data["start"], data["end"] = round(record.start, 4), round(record.end, 4)
    return data


def record_step(engine: sa.Engine, run_id: str, step: StepRecord) -> None:
    waves = step.waves
    label = waves[0] if len(waves) == 1 else f"{waves[0]}..{waves[-1]}" if waves else ""
    row = {
        "run_id": run_id, "workflow_id": step.workflow_id, "conversation_id": step.conversation_id,
        "waves": label, "model": step.model, "started": step.started, "finished": step.finished,
        "counts": step.counts(), "model_seconds": step.model_seconds,
        "calls": [_compact(r) for r in sorted(step.records, key=lambda r: r.start)],
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(run_steps), [row])


def run_step_rows(engine: sa.Engine, run_id: str) -> list[sa.Row]:
    """A run's step records, in the order they ended."""
    with engine.connect() as conn:
        return conn.execute(sa.select(run_steps).where(run_steps.c.run_id == run_id).order_by(run_steps.c.id)).all()


@dataclass(frozen=True)
class Throughput:
    calls: int
    seconds: float

    @property
    def seconds_per_call(self) -> float | None:
        return self.seconds / self.calls if self.calls else None


def throughput(engine: sa.Engine, model: str) -> Throughput:
    """Model seconds per call this model showed over its latest steps (wall time with the hosts' slots
    in use, loads excluded): what `turing plan` multiplies its calls by."""
    recent = (
        sa.select(run_steps.c.counts, run_steps.c.model_seconds)
        .where(run_steps.c.model == model, run_steps.c.model_seconds.is_not(None))
        .order_by(run_steps.c.id.desc())
        .limit(RECENT_STEPS)
    )
    calls, seconds = 0, 0.0
    with engine.connect() as conn:
        for counts, model_seconds in conn.execute(recent):
            n = int((counts or {}).get("calls") or 0)
            if n:
                calls, seconds = calls + n, seconds + float(model_seconds)
    return Throughput(calls, seconds)
