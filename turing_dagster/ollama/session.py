"""One step's use of one Ollama model on one host: load once, run a wave of chats, then keep or unload.

`HostPool.session(model, options)` (see pool.py) makes a `ModelSession`. The session
measures the model load apart from inference, bounds the requests in flight, retries transient errors
with backoff (tenacity), re-asks on invalid output, and yields each posting's `LLMResult` as it
completes. Residency is read from the server (`/api/ps`), never remembered.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
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
from turing_dagster.ollama.errors import ModelNotFoundError, OllamaError, OllamaUnavailableError
from turing_dagster.ollama.types import Hosts, LLMRequest, LLMResult, SessionStats

REASK = "Your answer was invalid: {reason}. Answer again following the instructions exactly."
_END = object()


class ModelSession:
    """One model on one host for one step.

    `ensure_available()` -> `load()` (run() does both lazily) -> `run(requests)` -> `finish(next_model)`.
    A session never finished leaves the model as it is: the next session unloads it if it needs
    another model, and the pool's `release()` at the end of the run.
    """

    def __init__(self, models: Hosts, model: str, options: dict | None = None):
        self.model = model.strip()
        self.options = dict(options) if options is not None else None
        self.stats = SessionStats()
        self._models = models
        self._norm = normalize_model(self.model)
        self._host: str | None = None
        self._lock = threading.Lock()
        self._available = False
        self._loaded = False
        self._host_down = False  # a request exhausted its attempts on a refused connection
        self._wall_start: float | None = None

    def __repr__(self) -> str:
        return f"ModelSession(model={self.model!r}, host={self._host or '?'})"

    @property
    def host(self) -> str:
        """The host serving this model (resolved on first use; no network call with a single host)."""
        if self._host is None:
            self._host = self._models.host_for(self.model)
        return self._host

    @property
    def loaded(self) -> bool:
        """This session loaded its model and has not unloaded it (another session may have)."""
        return self._loaded

    @property
    def keep_alive(self) -> str:
        return self._models.keep_alive

    @property
    def _client(self) -> ollama.Client:
        return self._models.client(self.host)

    # -- control calls ------------------------------------------------------------------------

    def _control(self, fn: Callable[[], Any], what: str) -> Any:
        """A load/unload/show call: transient errors retried; a refused connection fails at once."""
        try:
            return self._models.call_with_retries(fn, retry_refused=False)
        except OllamaError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise OllamaUnavailableError(f"Ollama is not reachable at {self.host}: {describe(exc)}") from None
            raise OllamaError(f"{what} on {self.host} failed: {describe(exc)}") from None

    def _not_found(self, exc: Exception) -> Exception:
        if isinstance(exc, ollama.ResponseError) and exc.status_code == 404:
            return ModelNotFoundError(f"model '{self.model}' not found on {self.host}")
        return exc

    def ensure_available(self) -> None:
        """Check with /api/show that the host has the model; raises before any posting is touched."""
        if self._available:
            return

        def show() -> Any:
            try:
                return self._client.show(self.model)
            except ollama.ResponseError as exc:
                raise self._not_found(exc) from None
            except pydantic.ValidationError:  # HTTP 200 with a body this client cannot parse: it exists
                return None

        self._control(show, f"show {self.model}")
        self._available = True

    def load(self) -> float:
        """Make this the only model resident on the host; returns the load seconds (0 if resident)."""
        with self._lock:
            if self._loaded:
                return 0.0
            self.ensure_available()
            resident = self._models.ps_models(self.host)
            others = [m for m in resident if model_name(m) != self._norm]
            mine = [m for m in resident if model_name(m) == self._norm]
            for other in others:
                self._unload(other.model or other.name or "")
            if others:
                self._wait_unloaded({model_name(m) for m in others})
            seconds = 0.0
            num_ctx = (self.options or {}).get("num_ctx")
            resident_ctx = getattr(mine[0], "context_length", None) if mine else None
            stale_ctx = bool(num_ctx and resident_ctx and resident_ctx != num_ctx)  # Ollama would reload
            if not mine or stale_ctx:
                started = time.monotonic()
                self._control(self._preload, f"load of {self.model}")
                seconds = time.monotonic() - started
                self.stats.loads = 1
                self._models.log.info(f"loaded model {self.model} on {self.host} in {seconds:.2f} s")
            self.stats.load_seconds = seconds
            self._loaded = True
            return seconds

    def _preload(self) -> Any:
        try:
            return self._client.generate(model=self.model, prompt="", keep_alive=self.keep_alive, options=self.options)
        except ollama.ResponseError as exc:
            raise self._not_found(exc) from None

    def _unload(self, model: str) -> None:
        self._control(lambda: self._client.generate(model=model, prompt="", keep_alive=0), f"unload of {model}")
        self.stats.unloads += 1
        self._models.log.info(f"unloaded model {model} on {self.host}")

    def _wait_unloaded(self, models: set[str], timeout: float = 30.0) -> None:
        """Ollama frees a model shortly after the keep_alive=0 call returns: wait until /api/ps agrees."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while models & set(self._models.resident_models(self.host)):
            if time.monotonic() > deadline:
                self._models.log.warning(f"{sorted(models)} still resident on {self.host} after {timeout:.0f} s")
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def finish(self, next_model: str | None) -> None:
        """Keep the model when the next step uses it too, else unload it; a no-op if never loaded."""
        with self._lock:
            if not self._loaded:
                return
            if next_model is not None and normalize_model(next_model) == self._norm:
                return
            self._loaded = False
            try:
                self._unload(self.model)
            except Exception as exc:  # the next session unloads it anyway before its own load
                self._models.log.warning(f"could not unload {self.model} on {self.host}: {describe(exc)}")

    # -- requests -----------------------------------------------------------------------------

    def run(self, requests: Iterable[LLMRequest]) -> Iterator[LLMResult]:
        """Chat every request with bounded concurrency; yields results as they complete.

        Only ModelNotFoundError escapes; every other failure is that request's LLMResult.error.
        """
        source = iter(requests)
        first = next(source, _END)
        if first is _END:
            return
        if self._wall_start is None:
            self._wall_start = time.monotonic()
        source = itertools.chain([first], source)
        try:
            self.load()
        except ModelNotFoundError:
            raise
        except Exception as exc:
            why = str(exc) if isinstance(exc, OllamaError) else describe(exc)
            reason = f"model {self.model} not loaded: {why}"
            for req in source:
                yield self._record(LLMResult(req.key, None, reason, 0, 0.0, 0, 0, unavailable=True))
            return
        yield from self._run_pool(source)

    def _run_pool(self, source: Iterator[LLMRequest]) -> Iterator[LLMResult]:
        slots = self._models.slots_per_host
        workers = 2 * slots  # a worker sleeping in backoff does not hold an in-flight slot
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ollama-{self._norm}")
        pending: set = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < workers + slots:
                    req = next(source, _END)
                    if req is _END:
                        exhausted = True
                    else:
                        pending.add(pool.submit(self._execute, req, stop))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield self._record(fut.result())
        finally:
            stop.set()  # only matters when the caller stopped early or an error escapes
            pool.shutdown(wait=True, cancel_futures=True)

    def _record(self, result: LLMResult) -> LLMResult:
        s = self.stats
        s.requests += 1
        s.failures += result.error is not None
        s.attempts += result.attempts
        s.tokens_in += result.tokens_in
        s.tokens_out += result.tokens_out
        s.latencies.append(result.latency_seconds)
        s.wall_seconds = time.monotonic() - (self._wall_start or time.monotonic())
        return result

    def _chat(self, messages: list[dict], fmt: str | dict | None) -> Any:
        with self._models.slot(self.host):
            try:
                return self._client.chat(
                    model=self.model,
                    messages=messages,
                    format=fmt,
                    options=self.options,
                    keep_alive=self.keep_alive,
                    stream=False,
                )
            except ollama.ResponseError as exc:
                raise self._not_found(exc) from None

    def _execute(self, req: LLMRequest, stop: threading.Event) -> LLMResult:
        started = time.monotonic()
        tally = Tally()
        messages = [dict(m) for m in req.messages]
        tokens_in = tokens_out = 0
        rounds = 1 + max(0, req.invalid_retries)

        def result(output: str | None, error: str | None) -> LLMResult:
            latency = time.monotonic() - started
            return LLMResult(req.key, output, error, tally.attempts, latency, tokens_in, tokens_out)

        reason = ""
        output = ""
        for _ in range(rounds):
            try:
                resp = self._models.call_with_retries(
                    lambda msgs=messages: self._chat(msgs, req.format),
                    tally=tally,
                    stop=stop,
                    max_attempts=1 if self._host_down else None,
                )
            except ModelNotFoundError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    return result(None, f"ollama error: {describe(exc)}")
                self._host_down = is_connection_error(exc)
                failed = result(None, f"transient errors after {tally.run_attempts} attempts: {describe(exc)}")
                failed.unavailable = means_server_away(exc)
                return failed
            self._host_down = False
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
