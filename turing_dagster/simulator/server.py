"""The Ollama SIMULATOR server: state shared by the HTTP handlers, the aiohttp runner, and
``start_simulator`` which serves it from a background thread with its own event loop.

It is a stand-in for tests, demos and benchmarks; it runs no model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .api import make_app
from .config import BANNER, FaultConfig, SimulatorConfig
from .state import Simulator

__all__ = ["BANNER", "Simulator", "SimulatorHandle", "SimulatorServer", "start_simulator"]


class SimulatorServer:
    """Binds the aiohttp app of a ``Simulator``; can "crash" (stop listening, abort connections) and revive."""

    def __init__(self, sim: Simulator, host: str, port: int):

        self.sim, self.host, self.port = sim, host, port
        self.runner = web.AppRunner(make_app(sim, self.reset), handler_cancellation=True, shutdown_timeout=0.5,
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

    def set_answers(self, answers: dict[str, str]) -> None:
        """Canned answers from now on (see SimulatorConfig.answers); {} goes back to simulated ones."""
        self._call(lambda: setattr(self._sim, "answers", dict(answers)))

    def repull(self, model: str, revision: str | None = None) -> str:
        """``ollama pull`` of a new version of ``model``: its new digest (on /api/tags at once, on /api/ps once
        the resident instance reloads, which its next request does). ``revision`` default: the next one."""

        def bump() -> str:
            name = self._sim.lookup(model)
            if name is None:
                raise KeyError(f"the simulator serves no model {model!r}")
            return self._sim.repull(name, revision)

        return self._call(bump)

    def reset(self) -> None:
        """Clear timeline, request log and residency; re-seed faults; back to the configured model versions;
        listen again after a simulated crash."""
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
