"""One step's use of one Ollama model: load it on every host that serves it, share a wave's chats
across those hosts, then keep or unload per the pool's residency.

`HostPool.session(model, options)` (see pool.py) makes a `ModelSession`. The session measures model
loads apart from inference, bounds the requests in flight per host, retries transient errors with
backoff (tenacity), re-asks on invalid output, and yields each posting's `LLMResult` as it completes.
Residency is read from the server (`/api/ps`), never remembered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from turing_dagster.ollama.calls import describe, normalize_model
from turing_dagster.ollama.context import FALLBACK_NUM_CTX, CutDetector
from turing_dagster.ollama.dispatch import Dispatch
from turing_dagster.ollama.errors import ModelNotFoundError, OllamaError
from turing_dagster.ollama.host_model import HostModel
from turing_dagster.ollama.types import Hosts, LLMRequest, LLMResult, SessionStats

_UNSET = object()


class ModelSession:
    """One model for one step, on every host that serves it.

    `ensure_available()` -> `load()` (run() does both lazily) -> `run(requests)` (once or more) ->
    `finish(next_model)`. A session never finished leaves the model as it is.
    """

    def __init__(self, models: Hosts, model: str, options: dict | None = None):
        self.model = model.strip()
        self.options = dict(options) if options is not None else None
        self.stats = SessionStats()
        self._models = models
        self._norm = normalize_model(self.model)
        self._hosts: list[HostModel] | None = None
        self._lock = threading.Lock()
        self._available = False
        self._wall_start: float | None = None
        self._digest: object = _UNSET
        self._num_ctx: int | None = None
        self.cuts = CutDetector()  # learns this model's characters per token from uncut answers

    def __repr__(self) -> str:
        hosts = ",".join(h.host for h in self._hosts) if self._hosts else "?"
        return f"ModelSession(model={self.model!r}, hosts={hosts})"

    def _host_models(self) -> list[HostModel]:
        if self._hosts is None:
            self._hosts = [HostModel(self._models, h, self.model, self.options) for h in self._models.hosts_for(self.model)]
        return self._hosts

    @property
    def host(self) -> str:
        """The first host serving this model (no network call with a single host)."""
        return self._host_models()[0].host

    @property
    def hosts(self) -> list[str]:
        """Every host this session uses (those found down or without the model left out)."""
        return [h.host for h in self._host_models()]

    @property
    def loaded(self) -> bool:
        """run()/load() made the model resident and finish() has not let it go since."""
        return any(h.ready for h in self._host_models())

    def loaded_hosts(self) -> list[str]:
        """Hosts where this session loaded its model and still counts it as held."""
        return [h.host for h in self._host_models() if h.ready and h.loads]

    @property
    def slots(self) -> int:
        """Requests this session can have in flight: the slots of every host serving its model."""
        return self._models.slots_per_host * len(self._host_models())

    @property
    def keep_alive(self) -> str:
        return self._models.keep_alive

    def _drop(self, failed: dict[HostModel, Exception], what: str) -> None:
        """Leave out hosts that failed while others serve; raise the first failure when none is left."""
        hosts = self._host_models()
        left = [h for h in hosts if h not in failed]
        if not left:
            raise next(iter(failed.values()))
        for hm, exc in failed.items():
            self._models.log.warning(f"{what}: {hm.host} left out for {self.model}: {exc}")
        self._hosts = left

    def ensure_available(self) -> None:
        """Check with /api/show that the hosts have the model; raises before any posting is touched."""
        if self._available:
            return
        failed: dict[HostModel, Exception] = {}
        for hm in self._host_models():
            try:
                hm.show()
            except OllamaError as exc:
                failed[hm] = exc
        self._drop(failed, "show")
        self._available = True

    def load(self) -> float:
        """Have the model resident on each host (in parallel); returns the load seconds summed over hosts."""
        with self._lock:
            self.ensure_available()
            todo = [h for h in self._host_models() if not h.ready]
            if not todo:
                return 0.0
            failed: dict[HostModel, Exception] = {}
            seconds = 0.0
            with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                futures = {hm: pool.submit(hm.load) for hm in todo}
            for hm, fut in futures.items():
                try:
                    seconds += fut.result()
                except Exception as exc:
                    failed[hm] = exc if isinstance(exc, OllamaError) else OllamaError(describe(exc))
            self._drop(failed, "load")
            self._sync_stats()
            return seconds

    def _sync_stats(self) -> None:
        hosts = self._host_models()
        s = self.stats
        s.loads = sum(h.loads for h in hosts)
        s.load_seconds = sum(h.load_seconds for h in hosts)
        s.unloads = sum(h.unloads for h in hosts)
        s.host_loads = {h.host: h.loads for h in hosts}
        s.host_requests = {h.host: h.requests for h in hosts}

    def finish(self, next_model: str | None) -> None:
        """Exclusive residency: unload unless the next step uses the model too. Shared: keep it."""
        with self._lock:
            if self._hosts is None:
                return  # never used: nothing to resolve, no network call
            for hm in self._hosts:
                hm.finish(next_model)
            self._sync_stats()

    def digest(self) -> str | None:
        """The model's digest on the hosts serving it (/api/tags, asked once): part of every request key.
        Hosts holding different versions get a key of their own (their digests joined), and a warning."""
        if self._digest is _UNSET:
            found = set()
            for hm in self._host_models():
                try:
                    found.add(hm.digest() or "")
                except OllamaError as exc:
                    self._models.log.warning(f"digest of {self.model} on {hm.host} unknown: {exc}")
            if len(found) > 1:
                self._models.log.warning(f"hosts serve different versions of {self.model}: {sorted(found)}")
            self._digest = ",".join(sorted(found)) or None
        return self._digest  # type: ignore[return-value]

    def context_length(self) -> int:
        """The num_ctx requests run with: the workflow's, unless a loaded host reports less (the model's
        limit); without one, what the hosts report for the loaded model; else FALLBACK_NUM_CTX."""
        if self._num_ctx is None:
            self.load()
            asked = (self.options or {}).get("num_ctx")
            reported = []
            for hm in self._host_models():
                try:
                    value = hm.context_length()
                except OllamaError:
                    value = None
                if value:
                    reported.append(int(value))
            if isinstance(asked, int) and asked > 0:
                self._num_ctx = min([asked, *reported])
                if self._num_ctx < asked:
                    self._models.log.warning(f"{self.model} runs with num_ctx {self._num_ctx}, not the {asked} "
                                             "the workflow asks for (the model's or the server's limit)")
            elif reported:
                self._num_ctx = min(reported)
            else:
                self._num_ctx = FALLBACK_NUM_CTX
                self._models.log.warning(f"no num_ctx for {self.model} set or reported: assuming {FALLBACK_NUM_CTX}")
        return self._num_ctx

    def start(self) -> Dispatch:
        """Load the model where needed and open a dispatch for this step's requests (submit, results).
        Raises OllamaError when no host could load it."""
        if self._wall_start is None:
            self._wall_start = time.monotonic()
        self.load()
        # a worker sleeping in backoff does not hold an in-flight slot, so twice the slots
        ready = [h for h in self._host_models() if h.ready]
        return Dispatch(ready, 2 * self._models.slots_per_host, self.cuts)

    def record(self, result: LLMResult) -> LLMResult:
        """Count a result this session's dispatch produced."""
        return self._record(result)

    def run(self, requests: Iterable[LLMRequest]) -> Iterator[LLMResult]:
        """Every request through one dispatch, results as they complete (benchmarks and simple callers). A
        model that cannot be loaded fails every request as `unavailable`; only ModelNotFoundError escapes."""
        todo = list(requests)
        if not todo:
            return
        try:
            dispatch = self.start()
        except ModelNotFoundError:
            raise
        except Exception as exc:
            why = str(exc) if isinstance(exc, OllamaError) else describe(exc)
            for req in todo:
                yield self._record(LLMResult(req.key, None, f"model {self.model} not loaded: {why}", 0, 0.0, 0, 0,
                                             unavailable=True, request_key=req.request_key))
            return
        try:
            for req in todo:
                dispatch.submit(req)
            for result in dispatch.results():
                yield self._record(result)
        finally:
            dispatch.shutdown()

    def _record(self, result: LLMResult) -> LLMResult:
        s = self.stats
        s.requests += 1
        s.failures += result.error is not None
        s.attempts += result.attempts
        s.tokens_in += result.tokens_in
        s.tokens_out += result.tokens_out
        s.latencies.append(result.latency_seconds)
        s.wall_seconds = time.monotonic() - (self._wall_start or time.monotonic())
        self._sync_stats()
        return result
