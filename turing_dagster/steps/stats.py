"""Counters a step keeps while it runs, turned into Dagster metadata and log events."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

_PREVIEW_ROWS = 5


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


@dataclass
class StepStats:
    model: str | None = None
    load_seconds: float = 0.0
    loads: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latencies: list[float] = field(default_factory=list)
    per_wave: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    preview: list[tuple[str, str, str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    def record(self, wave: str, status: str, posting_id: str, text: str | None, target: str | None) -> None:
        self.per_wave[wave][status] += 1
        if len(self.preview) < _PREVIEW_ROWS:
            short = (text or "").replace("\n", " ").replace("|", "/")
            self.preview.append((posting_id, status, short[:80], target or "END"))

    def count(self, status: str, wave: str | None = None) -> int:
        waves = [wave] if wave else list(self.per_wave)
        return sum(self.per_wave[w].get(status, 0) for w in waves if w in self.per_wave)

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def summary(self) -> dict[str, float | int | str | None]:
        inference = max(self.seconds - self.load_seconds, 1e-9)
        return {
            "processed": self.count("completed") + self.count("failed"),
            "completed": self.count("completed"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "model": self.model or "python",
            "loads": self.loads,
            "load_seconds": round(self.load_seconds, 3),
            "seconds": round(self.seconds, 3),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_per_second": round(self.tokens_out / inference, 1) if self.tokens_out else 0.0,
            "latency_p50_ms": _ms(percentile(self.latencies, 0.50)),
            "latency_p95_ms": _ms(percentile(self.latencies, 0.95)),
        }

    def preview_markdown(self) -> str:
        rows = ["| posting | status | output | next |", "| --- | --- | --- | --- |"]
        rows += [f"| {p} | {s} | {o} | {n} |" for p, s, o, n in self.preview]
        return "\n".join(rows)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
