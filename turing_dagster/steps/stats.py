"""Counters a step keeps while it runs, turned into Dagster metadata and log events."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

_PREVIEW_ROWS = 5
_LOGGED_FAILURES = 10  # failed postings a step names in the run's log (the rest: turing status)


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
    # per wave, its first completed rows (else its first rows of any status): what the wave's page shows
    previews: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    calls: int = 0  # requests sent to the model (reused answers and dry lookups excluded)
    failures: list[tuple[str, str]] = field(default_factory=list)  # the first few (posting, reason), for the log
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    def record(self, wave: str, status: str, posting_id: str, text: str | None, target: str | None,
               reused: bool = False) -> None:
        self.per_wave[wave][status] += 1
        if status == "failed" and len(self.failures) < _LOGGED_FAILURES:
            self.failures.append((posting_id, text or ""))
        if reused:
            self.per_wave[wave]["reused"] += 1
        rows = self.previews[wave]
        short = (text or "").replace("\n", " ").replace("|", "/")[:80]
        row = (posting_id, status, short, target or "END")
        if status == "completed":
            others = [r for r in rows if r[1] != "completed"]
            if len(rows) - len(others) < _PREVIEW_ROWS:  # completed rows first, pushing the others out
                rows[:] = [r for r in rows if r[1] == "completed"] + [row] + others
                del rows[_PREVIEW_ROWS:]
        elif len(rows) < _PREVIEW_ROWS:
            rows.append(row)

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
            "reused": self.count("reused"),
            "calls": self.calls,
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

    def wave_counts(self, wave: str) -> dict[str, int]:
        return {k: self.count(k, wave) for k in ("completed", "failed", "skipped", "reused")}

    def preview_markdown(self, wave: str | None = None) -> str:
        """A table of a wave's first completed rows (the first wave's, or the first rows across waves)."""
        picked = self.previews.get(wave, []) if wave else [r for w in sorted(self.previews) for r in self.previews[w]]
        rows = ["| posting | status | output | next |", "| --- | --- | --- | --- |"]
        rows += [f"| {p} | {s} | {o} | {n} |" for p, s, o, n in picked[:_PREVIEW_ROWS]]
        return "\n".join(rows)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
