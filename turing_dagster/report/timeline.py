"""The GPU timeline's data: the engine's call records of a run and its step boundaries, arranged per host.

Input is what each step of a run recorded (`run_steps`, store/runs.py): its boundaries and the
`CallRecord`s drained when it ended, as one event dict per step. Output is per host: when each model was loading, resident and
unloaded, and how many chats were in flight over time. Pure functions; `render.py` draws them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from turing_dagster.ollama.records import CallRecord


@dataclass(frozen=True)
class StepSpan:
    """One step of the run: a conversation over the run's waves, from its start to its last commit."""

    conversation: str
    start: float
    end: float
    execution_order: int | None = None
    model: str | None = None


@dataclass(frozen=True)
class Residency:
    """One stay of a model on a host: loading [load_start, load_end), resident until `unload_at`.

    `unload_at` None: still loaded when the run's records end (kept for the next wave, or released
    after the last step, which no step records)."""

    host: str
    model: str
    load_start: float
    load_end: float
    unload_at: float | None


@dataclass
class RunTimeline:
    steps: list[StepSpan] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)

    @property
    def start(self) -> float:
        times = [s.start for s in self.steps] + [r.start for r in self.records]
        return min(times) if times else 0.0

    @property
    def end(self) -> float:
        times = [s.end for s in self.steps] + [r.end for r in self.records]
        return max(times) if times else 0.0

    def hosts(self) -> list[str]:
        return sorted({r.host for r in self.records})

    def models(self) -> list[str]:
        """Models in the order the run first used them, so colours follow the plan."""
        seen: dict[str, None] = {}
        for r in sorted(self.records, key=lambda r: r.start):
            seen.setdefault(r.model, None)
        return list(seen)


def from_events(events: Iterable[dict[str, Any]]) -> RunTimeline:
    """The run's timeline from its steps' events ({conversation, step_start, step_end, calls, ...})."""
    timeline = RunTimeline()
    seen: set[tuple[str, float]] = set()
    for event in events:
        key = (event["conversation"], float(event["step_start"]))
        if key not in seen:
            seen.add(key)
            timeline.steps.append(
                StepSpan(
                    event["conversation"], float(event["step_start"]), float(event["step_end"]),
                    event.get("execution_order"), event.get("model"),
                )
            )
        timeline.records.extend(CallRecord.from_dict(c) for c in event.get("calls", []))
    timeline.steps.sort(key=lambda s: s.start)
    timeline.records.sort(key=lambda r: r.start)
    return timeline


def residencies(timeline: RunTimeline) -> list[Residency]:
    """Each load on a host, paired with the next unload of that model there (None: never unloaded)."""
    stays: list[Residency] = []
    open_: dict[tuple[str, str], Residency] = {}
    for r in timeline.records:
        if r.kind == "chat":
            continue
        key = (r.host, r.model)
        if r.kind == "load" and r.ok:
            if key in open_:  # loaded again without an unload we saw: the earlier stay ends here
                stays.append(_closed(open_.pop(key), r.start))
            open_[key] = Residency(r.host, r.model, r.start, r.end, None)
        elif r.kind == "unload" and key in open_:
            stays.append(_closed(open_.pop(key), r.start))
    stays.extend(open_.values())
    return sorted(stays, key=lambda s: (s.host, s.load_start))


def _closed(stay: Residency, at: float) -> Residency:
    return Residency(stay.host, stay.model, stay.load_start, stay.load_end, at)


def in_flight(records: Iterable[CallRecord]) -> tuple[list[float], list[int]]:
    """Concurrent calls over time as a step function: at times[i] the count becomes counts[i]."""
    deltas: dict[float, int] = defaultdict(int)
    for r in records:
        deltas[r.start] += 1
        deltas[max(r.end, r.start)] -= 1
    times, counts, level = [], [], 0
    for t in sorted(deltas):
        level += deltas[t]
        times.append(t)
        counts.append(level)
    return times, counts


def chats_by_host_and_model(timeline: RunTimeline) -> dict[str, dict[str, list[CallRecord]]]:
    lanes: dict[str, dict[str, list[CallRecord]]] = defaultdict(lambda: defaultdict(list))
    for r in timeline.records:
        if r.kind == "chat":
            lanes[r.host][r.model].append(r)
    return {h: dict(m) for h, m in lanes.items()}


def summary(timeline: RunTimeline) -> dict[str, dict[str, int]]:
    """Per model: loads, unloads, chats and failed calls, as the timeline's caption states them."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"load": 0, "unload": 0, "chat": 0, "failed": 0})
    for r in timeline.records:
        counts[r.model][r.kind] += 1
        counts[r.model]["failed"] += 0 if r.ok else 1
    return {m: counts[m] for m in timeline.models()}
