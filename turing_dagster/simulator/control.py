"""The SIMULATOR's own endpoints, /sim/*: what tests read and steer (timeline, request log, faults, versions)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from .config import FaultConfig
from .state import Simulator

# the server's reset(): revive a "crashed" listener; a callable, so the handlers need not know the server
RESET_KEY: web.AppKey[Callable[[], Awaitable[None]]] = web.AppKey("simulator_reset")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json(request: web.Request) -> object:
    try:
        return await request.json() if request.can_read_body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


class Control:
    def __init__(self, sim: Simulator):
        self.sim = sim

    async def timeline(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.snapshot())

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.request_log)

    async def reset(self, request: web.Request) -> web.Response:
        await request.app[RESET_KEY]()
        return web.json_response({"status": "reset"})

    async def faults(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await _json(request)
            if not isinstance(body, dict):
                return _error(400, "body must be a JSON object")
            try:
                self.sim.set_faults(FaultConfig.from_dict(body))
            except (TypeError, ValueError) as exc:
                return _error(400, str(exc))
        return web.json_response(self.sim.faults.to_dict())

    async def repull(self, request: web.Request) -> web.Response:
        """POST {"model": name, "revision": optional}: a new version of the model was pulled."""
        body = await _json(request)
        model = self.sim.lookup(body.get("model")) if isinstance(body, dict) else None
        if model is None:
            return _error(404, "repull: give the \"model\" of a configured model")
        revision = body.get("revision")
        digest = self.sim.repull(model, str(revision) if revision else None)
        return web.json_response({"model": model, "digest": digest, "revision": self.sim.catalog[model].revision})


def control_routes(sim: Simulator) -> list[web.RouteDef]:
    control = Control(sim)
    return [web.get("/sim/timeline", control.timeline), web.get("/sim/requests", control.requests),
            web.post("/sim/reset", control.reset), web.post("/sim/faults", control.faults),
            web.get("/sim/faults", control.faults), web.post("/sim/repull", control.repull)]
