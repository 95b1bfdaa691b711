"""State of one simulated Ollama server, shared by the HTTP handlers (api.py) and the runner (server.py).

It is a stand-in for tests, demos and benchmarks; it runs no model.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .config import FaultConfig, SimulatorConfig, model_digest, normalize_model_name, parse_keep_alive
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
        self.catalog = config.catalog()  # shared with the residency; repull() replaces entries in place
        self.pulled_at: dict[str, str] = {}
        self.repulls: Counter[str] = Counter()
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

    def record(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """Log a request; its entry gains ``_sim`` (context.Fit.log) once the model has seen it."""
        entry = {"endpoint": endpoint, **body}
        self.request_log.append(entry)
        return entry

    def num_ctx(self, model: str, options: Any) -> int:
        """The context ``model`` runs with for a request with these ``options`` (SimulatorConfig.num_ctx_for)."""
        requested = options.get("num_ctx") if isinstance(options, dict) else None
        valid = isinstance(requested, (int, float)) and not isinstance(requested, bool) and requested > 0
        return self.config.num_ctx_for(self.catalog[model], int(requested) if valid else None)

    def digest(self, model: str) -> str:
        return model_digest(model, self.catalog[model].revision or "")

    def repull(self, model: str, revision: str | None = None) -> str:
        """A new version of ``model`` was pulled: a new digest; a resident instance reloads on its next request."""
        self.repulls[model] += 1
        profile = self.catalog[model]
        revision = revision or f"{profile.revision}#pull{self.repulls[model]}"
        self.catalog[model] = replace(profile, revision=revision)
        self.pulled_at[model] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return self.digest(model)

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
        self.catalog.update(self.config.catalog())  # the configured versions again, for the next test
        self.pulled_at.clear()
        self.repulls.clear()

    def snapshot(self) -> dict[str, Any]:
        self.residency.sweep()
        return self.timeline.snapshot()
