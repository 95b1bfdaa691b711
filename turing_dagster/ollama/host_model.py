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
from turing_dagster.ollama.errors import ModelNotFoundError, NotAnOllamaServerError, OllamaError, unreachable
from turing_dagster.ollama.types import Hosts, LLMRequest, LLMResult

REASK = "Your answer was invalid: {reason}. Answer again following the instructions exactly."


class HostModel:
    def __init__(self, pool: Hosts, host: str, model: str, options: dict | None):
        self.pool = pool
        self.host = host
        self.model = model
        self.norm = normalize_model(model)
        self.options = options
        self.ready = False  # load() done and not finished since: requests may go here
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

    def _chat(self, messages: list[dict], fmt: str | dict | None, key: str) -> Any:
        with self.pool.slot(self.host):
            wall, ok = time.time(), False
            try:
                resp = self.pool.client(self.host).chat(
                    model=self.model,
                    messages=messages,
                    format=fmt,
                    options=self.options,
                    keep_alive=self.pool.keep_alive,
                    stream=False,
                )
                ok = True
                return resp
            except ollama.ResponseError as exc:
                raise self.not_found(exc) from None
            finally:
                self.pool.recorder.record(self.host, self.norm, "chat", wall, key=key, ok=ok)

    def execute(self, req: LLMRequest, stop: threading.Event) -> LLMResult:
        """One request to the end: transient errors retried, invalid output re-asked with the reason.

        Only ModelNotFoundError escapes. A failure the server caused is `unavailable` (retryable);
        one about the request (a 4xx, invalid output after the re-asks) is not.
        """
        started = time.monotonic()
        tally = Tally()
        messages = [dict(m) for m in req.messages]
        tokens_in = tokens_out = 0
        rounds = 1 + max(0, req.invalid_retries)

        def result(output: str | None, error: str | None, unavailable: bool = False) -> LLMResult:
            latency = time.monotonic() - started
            return LLMResult(req.key, output, error, tally.attempts, latency, tokens_in, tokens_out, unavailable)

        reason = ""
        for _ in range(rounds):
            try:
                resp = self.pool.call_with_retries(
                    lambda msgs=messages: self._chat(msgs, req.format, req.key),
                    tally=tally,
                    stop=stop,
                    max_attempts=1 if self.down else None,
                )
            except ModelNotFoundError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    return result(None, f"ollama error: {describe(exc)} (at {self.host})", means_server_away(exc))
                self.down = is_connection_error(exc)
                text = f"transient errors after {tally.run_attempts} attempts: {describe(exc)} (at {self.host})"
                return result(None, text, means_server_away(exc))
            self.down = False
            tokens_in += resp.prompt_eval_count or 0
            tokens_out += resp.eval_count or 0
            output = resp.message.content or ""
            if req.check is None:
                return result(output, None)
            try:
                reason = req.check(output)
            except Exception as exc:
                return result(None, f"output check raised {describe(exc)}")
            if reason is None:
                return result(output, None)
            messages = [
                *messages,
                {"role": "assistant", "content": output},
                {"role": "user", "content": REASK.format(reason=reason)},
            ]
        return result(None, f"invalid output after {rounds} attempts: {reason}")
