"""One session's model on one host: residency (load, unload, per the pool's rule) and its chats.

A `ModelSession` holds one `HostModel` per host that serves its model. Shared residency never
unloads: the server keeps what fits and evicts by its own accounting. Exclusive residency makes
this the only model resident on the host while the step runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ollama
import pydantic

from turing_dagster.ollama.calls import (
    Tally,
    describe,
    is_connection_error,
    is_transient,
    means_server_away,
    model_name,
    normalize_model,
)
from turing_dagster.ollama.context import DEFAULT_NUM_KEEP, CutDetector
from turing_dagster.ollama.errors import ModelNotFoundError, NotAnOllamaServerError, OllamaError, unreachable
from turing_dagster.ollama.types import Hosts, LLMRequest, LLMResult


class HostModel:
    def __init__(self, pool: Hosts, host: str, model: str, options: dict | None):
        self.pool = pool
        self.host = host
        self.model = model
        self.norm = normalize_model(model)
        self.options = options
        self.ready = False  # load() done and not finished since: requests may go here
        self.resident_ctx: int | None = None  # the context /api/ps reported for it when load() found it resident
        self.down = False  # a request exhausted its attempts on a refused connection: gone, not busy
        self.loads = 0
        self.load_seconds = 0.0
        self.unloads = 0
        self.requests = 0

    def __repr__(self) -> str:
        return f"HostModel({self.model!r} on {self.host})"

    # -- control calls ------------------------------------------------------------------------

    def _control(self, fn: Callable[[], Any], what: str) -> Any:
        """A show/load/unload call: transient errors retried; a refused connection fails at once."""
        try:
            return self.pool.call_with_retries(fn, retry_refused=False)
        except OllamaError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise unreachable(self.host, describe(exc)) from None
            raise OllamaError(f"{what} on {self.host} failed: {describe(exc)}") from None

    def not_found(self, exc: Exception) -> Exception:
        if isinstance(exc, ollama.ResponseError) and exc.status_code == 404:
            return ModelNotFoundError(f"model '{self.model}' not found on {self.host}")
        return exc

    def not_ollama(self, exc: Exception) -> Exception | None:
        """After a 404 from /api/show: NotAnOllamaServerError when /api/tags answers 404 too (a URL
        with a wrong path answers so to everything), else None (the model is missing)."""
        if not (isinstance(exc, ollama.ResponseError) and exc.status_code == 404):
            return None
        try:
            self.pool.control_client(self.host).list()
        except ollama.ResponseError as again:
            return NotAnOllamaServerError(self.host, again.status_code) if again.status_code == 404 else None
        except Exception:  # no second answer: nothing to say beyond the first
            return None
        return None

    def show(self) -> None:
        """/api/show: raises ModelNotFoundError when the host does not have the model."""

        def call() -> Any:
            try:
                return self.pool.control_client(self.host).show(self.model)
            except ollama.ResponseError as exc:
                raise (self.not_ollama(exc) or self.not_found(exc)) from None
            except pydantic.ValidationError:  # HTTP 200 with a body this client cannot parse: it exists
                return None

        self._control(call, f"show {self.model}")

    def load(self) -> float:
        """Have the model resident on this host; returns the load seconds (0 when it already was)."""
        resident = self.pool.ps_models(self.host)
        others = [m for m in resident if model_name(m) != self.norm]
        mine = [m for m in resident if model_name(m) == self.norm]
        exclusive = self.pool.residency == "exclusive"
        if exclusive and others:
            for other in others:
                self.unload(other.model or other.name or "")
            self.wait_unloaded({model_name(m) for m in others})
        num_ctx = (self.options or {}).get("num_ctx")
        resident_ctx = getattr(mine[0], "context_length", None) if mine else None
        self.resident_ctx = resident_ctx if resident_ctx and (not num_ctx or resident_ctx <= num_ctx) else None
        stale_ctx = bool(num_ctx and resident_ctx and resident_ctx != num_ctx)  # Ollama would reload
        seconds = 0.0
        if not mine or stale_ctx:
            started, wall = time.monotonic(), time.time()
            ok = False
            try:
                self._control(self._preload, f"load of {self.model}")
                ok = True
            finally:
                self.pool.recorder.record(self.host, self.norm, "load", wall, ok=ok)
            seconds = time.monotonic() - started
            self.loads += 1
            evicted: set[str] = set()
            if not exclusive and others:
                # the server made room by its own accounting; say what it let go, nothing to undo
                evicted = {model_name(m) for m in others} - set(self.pool.resident_models(self.host))
                for gone in sorted(evicted):  # the timeline shows the server's eviction as an unload
                    self.pool.recorder.record(self.host, gone, "unload", wall)
            # one line (one event-log write in a Dagster run) for the load and what it pushed out
            let_go = f"; {self.host} evicted {', '.join(sorted(evicted))} to hold it" if evicted else ""
            self.pool.log.info(f"loaded model {self.model} on {self.host} in {seconds:.2f} s{let_go}")
        self.load_seconds += seconds
        self.ready = True
        return seconds

    def _preload(self) -> Any:
        try:
            return self.pool.load_client(self.host).generate(
                model=self.model, prompt="", keep_alive=self.pool.keep_alive, options=self.options
            )
        except ollama.ResponseError as exc:
            raise self.not_found(exc) from None

    def unload(self, model: str) -> None:
        wall, ok = time.time(), False
        try:
            self._control(
                lambda: self.pool.control_client(self.host).generate(model=model, prompt="", keep_alive=0),
                f"unload of {model}",
            )
            ok = True
        finally:
            self.pool.recorder.record(self.host, normalize_model(model), "unload", wall, ok=ok)
        self.unloads += 1
        self.pool.log.info(f"unloaded model {model} on {self.host}")

    def wait_unloaded(self, models: set[str], timeout: float = 30.0) -> None:
        """Ollama frees a model shortly after the keep_alive=0 call returns: wait until /api/ps agrees."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while models & set(self.pool.resident_models(self.host)):
            if time.monotonic() > deadline:
                self.pool.log.warning(f"{sorted(models)} still resident on {self.host} after {timeout:.0f} s")
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def finish(self, next_model: str | None) -> None:
        """Exclusive: unload unless the next step uses the model too. Shared: the server keeps it."""
        if not self.ready:
            return
        if next_model is not None and normalize_model(next_model) == self.norm:
            return
        self.ready = False
        if self.pool.residency != "exclusive":
            return
        try:
            self.unload(self.model)
        except Exception as exc:  # the next session unloads it anyway before its own load
            self.pool.log.warning(f"could not unload {self.model} on {self.host}: {describe(exc)}")

    # -- requests -----------------------------------------------------------------------------

    def digest(self) -> str | None:
        """The model's digest as this host lists it (/api/tags): part of every request key."""
        return self.pool.digests(self.host).get(self.norm)

    def context_length(self) -> int | None:
        """The context the loaded model runs with, as /api/ps reports it (None: not reported)."""
        if self.resident_ctx:  # seen by load(), which asked /api/ps a moment ago
            return self.resident_ctx
        for entry in self.pool.ps_models(self.host):
            if model_name(entry) == self.norm:
                return getattr(entry, "context_length", None) or None
        return None

    def _chat(self, req: LLMRequest) -> Any:
        options = dict(self.options or {})
        if req.num_ctx:
            options["num_ctx"] = req.num_ctx  # the context the guard checked the prompt against
        with self.pool.slot(self.host):
            wall, ok = time.time(), False
            try:
                resp = self.pool.client(self.host).chat(
                    model=self.model,
                    messages=req.messages,
                    format=req.format,
                    options=options or None,
                    keep_alive=self.pool.keep_alive,
                    stream=False,
                )
                ok = True
                return resp
            except ollama.ResponseError as exc:
                raise self.not_found(exc) from None
            finally:
                self.pool.recorder.record(self.host, self.norm, "chat", wall, key=req.key, ok=ok)

    def execute(self, req: LLMRequest, stop: threading.Event, cuts: CutDetector | None = None) -> LLMResult:
        """One request to its answer, transient errors retried (an invalid answer is the caller's to re-ask).

        Only ModelNotFoundError escapes. A failure the server caused is `unavailable` (retryable); one about
        the request (a 4xx, a prompt the server cut) is not.
        """
        started = time.monotonic()
        tally = Tally()

        def result(output: str | None, error: str | None, unavailable: bool = False, tokens: tuple[int, int] = (0, 0),
                   cut: bool = False, refused: bool = False) -> LLMResult:
            return LLMResult(req.key, output, error, tally.attempts, time.monotonic() - started, *tokens,
                             unavailable=unavailable, request_key=req.request_key, cut=cut, refused=refused)

        try:
            resp = self.pool.call_with_retries(
                lambda: self._chat(req), tally=tally, stop=stop, max_attempts=1 if self.down else req.attempts
            )
        except ModelNotFoundError:
            raise
        except Exception as exc:
            if not is_transient(exc):
                return result(None, f"ollama error: {describe(exc)} (at {self.host})", means_server_away(exc))
            self.down = is_connection_error(exc)
            text = f"transient errors after {tally.run_attempts} attempts: {describe(exc)} (at {self.host})"
            return result(None, text, means_server_away(exc), refused=self.down)
        self.down = False
        tokens = (resp.prompt_eval_count or 0, resp.eval_count or 0)
        if cuts is not None and req.estimate is not None and req.num_ctx:
            keep = (self.options or {}).get("num_keep")
            why = cuts.cut(resp.prompt_eval_count, req.estimate, req.num_ctx,
                           keep if isinstance(keep, int) and keep >= 0 else DEFAULT_NUM_KEEP)
            if why:
                return result(None, f"{why}; the answer is not used", tokens=tokens, cut=True)
        return result(resp.message.content or "", None, tokens=tokens)
