"""A step's requests shared across the hosts that serve its model, handed out one at a time.

The step submits requests as they become ready (a posting's next turn as soon as its last answer is in,
not when its whole chunk is); every host runs its own workers, each taking the next request when it is
free, so a slow host takes fewer. A request the host could not serve (the server misbehaved through
every retry) goes back for a host that has not tried it; a host that refuses connections stops taking
work while another serves. Results come out in completion order.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from turing_dagster.ollama.context import CutDetector
from turing_dagster.ollama.host_model import HostModel
from turing_dagster.ollama.types import LLMRequest, LLMResult

_DONE = object()


@dataclass
class _Item:
    req: LLMRequest
    tried: set[str] = field(default_factory=set)
    attempts: int = 0  # HTTP calls made for it on hosts that gave it back


@dataclass
class _Crash:
    exc: BaseException


class Dispatch:
    """The requests of one session's run: `submit` them, iterate the results, `close` when no more come.

    Not thread-safe for the caller: one thread submits and consumes (the step); the workers are internal.
    """

    def __init__(self, hosts: list[HostModel], workers_per_host: int, cuts: CutDetector | None = None):
        self._hosts = hosts
        self._cuts = cuts
        self._todo: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._outstanding = 0  # submitted, result not yet handed to the caller
        self._alive = {h.host for h in hosts}
        self._out: queue.SimpleQueue = queue.SimpleQueue()  # C-level: no Python Condition per result
        self._stop = threading.Event()
        self._several = len(hosts) > 1
        self._last_error = "no Ollama host left to run it"
        self._finished = 0  # workers that ended
        self._threads = [
            threading.Thread(target=self._work, args=(hm,), name=f"ollama-{hm.norm}-{n}", daemon=True)
            for hm in hosts
            for n in range(workers_per_host)
        ]
        for t in self._threads:
            t.start()

    @property
    def outstanding(self) -> int:
        return self._outstanding

    def submit(self, req: LLMRequest) -> None:
        with self._cond:
            self._outstanding += 1
            self._todo.append(_Item(req))
            self._cond.notify()

    def close(self) -> None:
        """No more submits: workers end once the queue is empty."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take(self, host: str) -> _Item | None:
        with self._cond:
            while not self._stop.is_set() and host in self._alive:
                for i, item in enumerate(self._todo):
                    if host not in item.tried:
                        del self._todo[i]
                        return item
                if self._closed and not any(host not in item.tried for item in self._todo):
                    return None
                self._cond.wait(0.1)  # new work, or a request given back for this host
            return None

    def _give_back(self, item: _Item) -> bool:
        """Requeue for another live host that has not tried it; False when there is none."""
        with self._cond:
            if not self._alive - item.tried:
                return False
            self._todo.append(item)
            self._cond.notify_all()
            return True

    def _leave(self, host: str) -> bool:
        """Take the host out while another serves; False (it stays) when it is the last one."""
        with self._cond:
            if self._alive - {host}:
                self._alive.discard(host)
                self._cond.notify_all()
                return True
            return False

    def _work(self, hm: HostModel) -> None:
        try:
            while not (hm.down and self._several and self._leave(hm.host)):
                item = self._take(hm.host)
                if item is None:
                    return
                result = hm.execute(item.req, self._stop, self._cuts)
                result.attempts += item.attempts
                if result.unavailable and self._several:
                    if hm.down:
                        self._leave(hm.host)
                    item.tried.add(hm.host)
                    item.attempts = result.attempts
                    if self._give_back(item):
                        hm.pool.log.warning(f"{item.req.key}: {result.error}; handed to another host")
                        continue
                self._out.put((hm, result))
        except BaseException as exc:
            self._out.put(_Crash(exc))
        finally:
            self._out.put(_DONE)

    def get(self) -> LLMResult:
        """The next result to complete (call only while `outstanding`). Only an exception from
        `HostModel.execute` (ModelNotFoundError) escapes; when every worker has ended (all hosts gone), the
        requests left fail as the server's fault."""
        while self._finished < len(self._threads):
            item = self._out.get()
            if item is _DONE:
                self._finished += 1
                continue
            if isinstance(item, _Crash):
                raise item.exc
            hm, result = item
            hm.requests += 1  # here, in the consuming thread: no two threads count at once
            self._last_error = result.error if result.unavailable else self._last_error
            self._outstanding -= 1
            return result
        with self._cond:
            item = self._todo.popleft()
        self._outstanding -= 1
        return LLMResult(item.req.key, None, self._last_error, item.attempts, 0.0, 0, 0, unavailable=True,
                         request_key=item.req.request_key)

    def results(self) -> Iterator[LLMResult]:
        """Results as they complete, until everything submitted so far has one."""
        while self._outstanding:
            yield self.get()

    def shutdown(self) -> None:
        self._stop.set()  # matters when the caller stopped early or an error escaped
        self.close()
        for t in self._threads:
            t.join()
