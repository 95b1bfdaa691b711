"""The Ollama SIMULATOR server: state shared by the HTTP handlers, the aiohttp runner, and
``start_simulator`` which serves it from a background thread with its own event loop.

It is a stand-in for tests, demos and benchmarks; it runs no model.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .config import BANNER, FaultConfig, SimulatorConfig, normalize_model_name, parse_keep_alive
from .residency import Residency, Timeline

__all__ = ["BANNER", "Simulator", "SimulatorHandle", "SimulatorServer", "start_simulator"]


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


class SimulatorServer:
    """Binds the aiohttp app of a ``Simulator``; can "crash" (stop listening, abort connections) and revive."""

    def __init__(self, sim: Simulator, host: str, port: int):
        from .api import make_app  # the handlers need Simulator from this module

        self.sim, self.host, self.port = sim, host, port
        self.runner = web.AppRunner(make_app(sim, self), handler_cancellation=True, shutdown_timeout=0.5,
                                    access_log=None)
        self.site: web.TCPSite | None = None
        sim.on_die = self._die_soon

    async def start(self) -> None:
        self.sim.start_clock()
        await self.runner.setup()
        await self._listen()

    async def _listen(self) -> None:
        self.site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        try:
            await self.site.start()
        except BaseException:
            self.site = None
            raise
        self.port = self.site.port
        self.sim.dead = False

    def _die_soon(self) -> None:
        self.sim.dead = True
        asyncio.get_running_loop().create_task(self._die())

    async def _die(self) -> None:
        if self.site is not None:
            site, self.site = self.site, None
            await site.stop()
        server = self.runner.server
        for handler in server.connections if server else []:
            if handler.transport is not None:
                handler.transport.abort()

    async def reset(self) -> None:
        self.sim.reset()
        if self.sim.dead and self.site is None:
            await self._listen()

    async def stop(self) -> None:
        """Stop at once: requests still waiting or hanging are cut off, as when a server is killed."""
        self.sim.residency.close()
        await self._die()
        await asyncio.sleep(0)
        await self.runner.cleanup()


class SimulatorHandle:
    """A running SIMULATOR in a background thread (see ``start_simulator``)."""

    def __init__(self, config: SimulatorConfig, host: str, port: int):
        self.config = config
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._sim = Simulator(config)
        self._server = SimulatorServer(self._sim, host, port)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="ollama-simulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        self.port = self._server.port
        self.url = f"http://{host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.start())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = exc
            self._loop.run_until_complete(self._server.runner.cleanup())
            self._loop.close()
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def _call(self, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
        if self._stopped:
            raise RuntimeError("the Ollama simulator is stopped")

        async def run() -> Any:
            result = fn()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def timeline(self) -> dict[str, Any]:
        return self._call(self._sim.snapshot)

    def requests(self) -> list[dict[str, Any]]:
        return self._call(lambda: [dict(r) for r in self._sim.request_log])

    def set_faults(self, faults: FaultConfig) -> None:
        self._call(lambda: self._sim.set_faults(faults))

    def reset(self) -> None:
        """Clear timeline, request log and residency; re-seed faults; listen again after a simulated crash."""
        self._call(self._server.reset)

    def stop(self) -> None:
        if self._stopped:
            return
        self._call(self._server.stop)
        self._stopped = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> SimulatorHandle:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SimulatorHandle {BANNER} at {self.url}>"


def start_simulator(config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> SimulatorHandle:
    """Serve the Ollama SIMULATOR from a background thread; ``port=0`` picks a free port (see ``.url``).

    Raises ``OSError`` when the port cannot be bound.
    """
    return SimulatorHandle(config or SimulatorConfig(), host, port)
