"""State of one simulated Ollama server, shared by the HTTP handlers (api.py) and the runner (server.py).

It is a stand-in for tests, demos and benchmarks; it runs no model.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import FaultConfig, SimulatorConfig, normalize_model_name, parse_keep_alive
from .residency import Residency, Timeline


@dataclass
class FaultDraw:
    die: bool = False
    error_503: bool = False
    error_500: bool = False
    hang: bool = False
    drop: bool = False
    bad_answer: bool = False


class Simulator:
    """State of one simulated Ollama server; lives on (and is only touched from) its event loop."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.catalog = config.catalog()
        self.default_keep_alive = parse_keep_alive(config.default_keep_alive)
        self._t0 = 0.0
        self.timeline = Timeline(self.clock)
        self.residency = Residency(catalog=self.catalog, parallel=config.parallel,
                                   max_loaded_models=config.max_loaded_models, max_queue=config.max_queue,
                                   timeline=self.timeline, clock=self.clock)
        self.request_log: list[dict[str, Any]] = []
        self.dead = False
        self.on_die: Callable[[], None] = lambda: None
        self.set_faults(config.faults)
        self.answers = dict(config.answers)

    def start_clock(self) -> None:
        self._t0 = asyncio.get_running_loop().time()

    def clock(self) -> float:
        try:
            return asyncio.get_running_loop().time() - self._t0
        except RuntimeError:
            return 0.0

    def lookup(self, name: Any) -> str | None:
        full = normalize_model_name(str(name or ""))
        return full if full in self.catalog else None

    def record(self, endpoint: str, body: dict[str, Any]) -> None:
        self.request_log.append({"endpoint": endpoint, **body})

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.completions_seen = 0

    def draw_faults(self) -> FaultDraw:
        """One draw per generate/chat request, always six numbers, so a seed gives a reproducible run."""
        f = self.faults
        self.completions_seen += 1
        r = [self.rng.random() for _ in range(6)]
        draw = FaultDraw(die=f.die_after is not None and self.completions_seen > f.die_after)
        if not draw.die:
            draw.error_503 = r[0] < f.error_503_rate
            draw.error_500 = not draw.error_503 and r[1] < f.error_500_rate
            ok = not (draw.error_503 or draw.error_500)
            draw.hang = ok and r[2] < f.hang_rate
            draw.drop = ok and r[3] < f.drop_rate
            draw.bad_answer = ok and r[4] < f.bad_answer_rate
        for key in ("die", "error_503", "error_500", "hang", "drop", "bad_answer"):
            if getattr(draw, key):
                self.timeline.faults[key] += 1
        return draw

    def reset(self) -> None:
        self.residency.reset()
        self.timeline.reset()
        self.request_log.clear()
        self.set_faults(self.faults)

    def snapshot(self) -> dict[str, Any]:
        self.residency.sweep()
        return self.timeline.snapshot()
