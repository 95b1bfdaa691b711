"""HTTP handlers of the Ollama SIMULATOR: Ollama's API shapes (as parsed by the ``ollama`` client); /sim/* is
in control.py. Prompts are fitted into the model's context as Ollama does (context.py) before they are answered."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from .answers import bad_answer, build_answer, canned_answer
from .config import BANNER, FOREVER, model_details, model_digest, parse_keep_alive
from .context import CONTEXT_ERROR, fit_prompt
from .control import RESET_KEY, control_routes
from .residency import QueueFull
from .state import Simulator
from .text import embedding

VERSION = "0.12.0-SIMULATOR"
NS = 1_000_000_000


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _reject(status: int, message: str) -> web.HTTPException:
    cls = web.HTTPNotFound if status == 404 else web.HTTPBadRequest
    return cls(text=json.dumps({"error": message}), content_type="application/json")


def _now_iso(offset_seconds: float = 0.0) -> str:
    when = datetime.now(UTC) + timedelta(seconds=min(offset_seconds, 290 * 365 * 86400))
    return when.isoformat().replace("+00:00", "Z")


def _chunks(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [""]


class Api:
    def __init__(self, sim: Simulator):
        self.sim = sim
        self.cpt = sim.config.chars_per_token

    def _tokens(self, chars: int) -> int:
        return max(1, math.ceil(chars / self.cpt))

    # -- middleware: a "crashed" simulator answers nothing -------------------------------------------
    @web.middleware
    async def crashed(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.sim.dead and not request.path.startswith("/sim/"):
            return self._abort(request)
        return await handler(request)

    @staticmethod
    def _abort(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError()

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json() if request.can_read_body else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _reject(400, "invalid JSON body") from None
        if not isinstance(body, dict):
            raise _reject(400, "body must be a JSON object")
        return body

    def _model(self, body: dict[str, Any]) -> str:
        if not body.get("model"):
            raise _reject(400, "model is required")
        name = self.sim.lookup(body["model"])
        if name is None:
            raise _reject(404, f'model "{body["model"]}" not found, try pulling it first')
        return name

    def _keep_alive(self, body: dict[str, Any]) -> float:
        try:
            return parse_keep_alive(body.get("keep_alive"), self.sim.default_keep_alive)
        except ValueError as exc:
            raise _reject(400, str(exc)) from None

    # -- generate / chat ------------------------------------------------------------------------------
    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, "generate")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, "chat")

    async def _complete(self, request: web.Request, endpoint: str) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await self._body(request)
        entry = self.sim.record(endpoint, body)
        fault = self.sim.draw_faults()
        if fault.die:
            self.sim.on_die()
            return self._abort(request)
        model = self._model(body)
        keep_alive = self._keep_alive(body)
        if fault.error_503:
            return _error(503, "server busy, please try again.  maximum pending requests exceeded (SIMULATOR fault)")
        if fault.error_500:
            return _error(500, "llama runner process has terminated (SIMULATOR fault injection)")
        if fault.hang:
            await asyncio.sleep(self.sim.faults.hang_seconds)
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        num_ctx = self.sim.num_ctx(model, options)
        empty = not body.get("prompt") if endpoint == "generate" else not body.get("messages")
        base = {"model": body["model"], "created_at": _now_iso()}
        if endpoint == "chat":
            base["message"] = {"role": "assistant", "content": ""}
        else:
            base["response"] = ""
        try:
            if empty and keep_alive == 0 and body.get("keep_alive") is not None:  # Ollama: explicit 0 only
                self.sim.residency.unload_now(model)
                return web.json_response({**base, "done": True, "done_reason": "unload"})
            if empty:
                async with self.sim.residency.lease(model, num_ctx, keep_alive, slot=False) as lease:
                    pass
                return web.json_response({**base, "done": True, "done_reason": "load",
                                          "load_duration": int(lease.load_seconds * NS)})
            fit = fit_prompt(endpoint, body, num_ctx, self.sim.config.truncation, self.cpt)
            entry["_sim"] = fit.log(endpoint)
            text, done_reason = "", "stop"
            if not fit.rejected:  # the answer to what the model saw; a canned one matches what was sent
                answer = build_answer(endpoint, fit.body)
                text = bad_answer(answer) if fault.bad_answer and not answer.is_retry else answer.text
                canned = canned_answer(self.sim.answers, endpoint, body)
                text = text if canned is None else canned
                limit = options.get("num_predict")
                if isinstance(limit, int) and 0 < limit < self._tokens(len(text)):
                    text, done_reason = text[: int(limit * self.cpt)], "length"
            async with self.sim.residency.lease(model, num_ctx, keep_alive, kind=endpoint) as lease:
                if fit.rejected:  # the runner refuses it once the model is loaded, before any output
                    self.sim.timeline.context_rejected[model] += 1
                    return _error(400, CONTEXT_ERROR)
                if fit.truncated:
                    self.sim.timeline.truncated[model] += 1
                profile = lease.instance.profile
                stats = {"prompt_eval_count": fit.evaluated,
                         "prompt_eval_duration": max(1000, int(profile.request_seconds * NS)),
                         "eval_count": self._tokens(len(text)),
                         "eval_duration": max(1000, int(profile.token_seconds * self._tokens(len(text)) * NS)),
                         "load_duration": int(lease.load_seconds * NS)}
                if body.get("stream", True):
                    return await self._stream(request, endpoint, base, text, done_reason, stats, profile,
                                              fault.drop, arrived)
                await asyncio.sleep(profile.request_seconds + profile.token_seconds * stats["eval_count"])
                final = self._final(base, endpoint, text, done_reason, stats, arrived)
                if fault.drop:
                    return await self._drop(request, json.dumps(final).encode())
                return web.json_response(final)
        except QueueFull:
            return _error(503, "server busy, please try again.  maximum pending requests exceeded")

    @staticmethod
    def _final(base: dict, endpoint: str, text: str, done_reason: str, stats: dict, arrived: float) -> dict:
        final = {**base, "created_at": _now_iso(), "done": True, "done_reason": done_reason,
                 "total_duration": int((time.monotonic() - arrived) * NS), **stats}
        if endpoint == "chat":
            final["message"] = {"role": "assistant", "content": text}
        else:
            final["response"] = text
        return final

    async def _stream(self, request: web.Request, endpoint: str, base: dict, text: str, done_reason: str,
                      stats: dict, profile: Any, drop: bool, arrived: float) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        await asyncio.sleep(profile.request_seconds)
        pieces = _chunks(text)
        for i, piece in enumerate(pieces):
            if drop and i >= len(pieces) // 2:
                return self._abort(request)
            if profile.token_seconds:
                await asyncio.sleep(profile.token_seconds * self._tokens(len(piece)))
            chunk = {**base, "created_at": _now_iso(), "done": False}
            if endpoint == "chat":
                chunk["message"] = {"role": "assistant", "content": piece}
            else:
                chunk["response"] = piece
            await response.write(json.dumps(chunk).encode() + b"\n")
        final = self._final(base, endpoint, "", done_reason, stats, arrived)
        await response.write(json.dumps(final).encode() + b"\n")
        await response.write_eof()
        return response

    async def _drop(self, request: web.Request, payload: bytes) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(payload)
        await response.prepare(request)
        await response.write(payload[: len(payload) // 2])
        return self._abort(request)

    # -- embeddings -----------------------------------------------------------------------------------
    async def embed(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        legacy = request.path.endswith("/embeddings")
        model = self._model(body)
        inputs = body.get("prompt", "") if legacy else body.get("input", "")
        inputs = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
        dims = int(body.get("dimensions") or 384)
        arrived = time.monotonic()
        try:
            num_ctx = self.sim.num_ctx(model, body.get("options"))
            async with self.sim.residency.lease(model, num_ctx, self._keep_alive(body), kind="embed") as lease:
                await asyncio.sleep(lease.instance.profile.request_seconds)
        except QueueFull:
            return _error(503, "server busy, please try again.  maximum pending requests exceeded")
        vectors = [embedding(text, dims) for text in inputs]
        if legacy:
            return web.json_response({"embedding": vectors[0] if vectors else []})
        return web.json_response({"model": body["model"], "embeddings": vectors,
                                  "total_duration": int((time.monotonic() - arrived) * NS),
                                  "load_duration": int(lease.load_seconds * NS),
                                  "prompt_eval_count": sum(self._tokens(len(t)) for t in inputs)})

    # -- model information ------------------------------------------------------------------------------
    def _entry(self, name: str, digest: str | None = None) -> dict[str, Any]:
        profile = self.sim.catalog[name]
        return {"name": name, "model": name, "size": profile.size_bytes, "digest": digest or self.sim.digest(name),
                "details": model_details(name)}

    async def tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [
            {**self._entry(n), "modified_at": self.sim.pulled_at.get(n, "2025-01-01T00:00:00Z")}
            for n in self.sim.catalog]})

    async def ps(self, request: web.Request) -> web.Response:
        models = []
        now = self.sim.clock()
        for inst in self.sim.residency.ps():
            if inst.expires_at is not None:
                left = inst.expires_at - now
            else:
                left = FOREVER if inst.keep_alive == FOREVER or inst.refs == 0 else inst.keep_alive
            # the version resident: a model pulled anew since shows its new digest once it reloads
            digest = model_digest(inst.name, inst.profile.revision or "")
            models.append({**self._entry(inst.name, digest), "expires_at": _now_iso(left),
                           "size_vram": inst.profile.size_bytes, "context_length": inst.num_ctx})
        return web.json_response({"models": models})

    async def show(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = self._model({"model": body.get("model") or body.get("name")})
        profile, details = self.sim.catalog[name], model_details(name)
        family = details["family"]
        modelfile = f"# Modelfile of a SIMULATED model ({BANNER})\nFROM {name}\n"
        shown: dict[str, Any] = {"license": "Simulated model: the Ollama SIMULATOR runs no weights."}
        if profile.num_ctx:  # Ollama lists parameters only when the Modelfile sets them
            modelfile += f"PARAMETER num_ctx {profile.num_ctx}\n"
            shown["parameters"] = f"num_ctx {profile.num_ctx}"
        return web.json_response({
            **shown,
            "modelfile": modelfile,
            "template": "{{ .System }}\n{{ .Prompt }}",
            "details": details,
            "model_info": {"general.architecture": family, "general.basename": name.split(":")[0],
                           f"{family}.context_length": profile.train_ctx, "general.simulator": True},
            "capabilities": ["completion", "embedding"],
            "modified_at": self.sim.pulled_at.get(name, "2025-01-01T00:00:00Z"),
        })

    async def pull(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        if self.sim.lookup(body.get("model") or body.get("name")) is None:
            return _error(500, "pull model manifest: file does not exist (the SIMULATOR serves only its configured models)")
        if body.get("stream", True):
            lines = [{"status": "pulling manifest"}, {"status": "verifying sha256 digest"}, {"status": "success"}]
            return web.Response(text="".join(json.dumps(x) + "\n" for x in lines), content_type="application/x-ndjson")
        return web.json_response({"status": "success"})

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION, "simulator": True, "description": BANNER})

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text=f"{BANNER} is running")


def make_app(sim: Simulator, reset: Callable[[], Awaitable[None]]) -> web.Application:
    api = Api(sim)
    app = web.Application(middlewares=[api.crashed], client_max_size=64 * 1024 * 1024)
    app[RESET_KEY] = reset
    app.add_routes([
        web.post("/api/generate", api.generate), web.post("/api/chat", api.chat),
        web.post("/api/embed", api.embed), web.post("/api/embeddings", api.embed),
        web.post("/api/show", api.show), web.post("/api/pull", api.pull),
        web.get("/api/ps", api.ps), web.get("/api/tags", api.tags), web.get("/api/version", api.version),
        web.get("/", api.root), *control_routes(sim),
    ])
    return app
