"""A step's requests shared across the hosts that serve its model, handed out one at a time.

Every host runs its own workers; each worker takes the next request when it is free, so a slow host
takes fewer. A request the host could not serve (the server misbehaved through every retry) goes
back to the queue for a host that has not tried it; a host that refuses connections stops taking
work while another serves. Results stream out in completion order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from turing_dagster.ollama.host_model import HostModel
from turing_dagster.ollama.types import LLMRequest, LLMResult

_END = object()
_DONE = object()


@dataclass
class _Item:
    req: LLMRequest
    tried: set[str] = field(default_factory=set)
    attempts: int = 0  # HTTP calls made for it on hosts that gave it back


@dataclass
class _Crash:
    exc: BaseException


class SharedQueue:
    """The requests of one `run()`: pulled lazily from the source, plus those a host gave back."""

    def __init__(self, source: Iterator[LLMRequest], hosts: list[str]):
        self._source = source
        self._back: list[_Item] = []
        self._cond = threading.Condition()
        self._exhausted = False
        self._in_flight = 0
        self.alive = set(hosts)

    def take(self, host: str, stop: threading.Event) -> _Item | None:
        """The next request for this host; None when there is nothing more it could get."""
        with self._cond:
            while not stop.is_set() and host in self.alive:
                for i, item in enumerate(self._back):
                    if host not in item.tried:
                        del self._back[i]
                        self._in_flight += 1
                        return item
                if not self._exhausted:
                    req = next(self._source, _END)
                    if req is not _END:
                        self._in_flight += 1
                        return _Item(req)  # type: ignore[arg-type]
                    self._exhausted = True
                if self._in_flight == 0:
                    return None
                self._cond.wait(0.1)  # a request in flight may yet come back for this host
            return None

    def done(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def give_back(self, item: _Item) -> bool:
        """Requeue for another live host that has not tried it; False when there is none."""
        with self._cond:
            self._in_flight -= 1
            if not self.alive - item.tried:
                return False
            self._back.append(item)
            self._cond.notify_all()
            return True

    def leave(self, host: str) -> bool:
        """Take the host out while another serves; False (it stays) when it is the last one."""
        with self._cond:
            if self.alive - {host}:
                self.alive.discard(host)
                self._cond.notify_all()
                return True
            return False

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def leftovers(self) -> list[_Item]:
        """What no host can take any more (every one of them gone)."""
        with self._cond:
            items, self._back = self._back, []
            if not self._exhausted:
                items += [_Item(req) for req in self._source]
                self._exhausted = True
            return items


def spread(hosts: list[HostModel], source: Iterator[LLMRequest], workers_per_host: int) -> Iterator[LLMResult]:
    """Run every request on one of `hosts` (all loaded); yields results as they complete.

    Only an exception from `HostModel.execute` (ModelNotFoundError) escapes.
    """
    work = SharedQueue(source, [h.host for h in hosts])
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    several = len(hosts) > 1

    def worker(hm: HostModel) -> None:
        try:
            while not (hm.down and several and work.leave(hm.host)):
                item = work.take(hm.host, stop)
                if item is None:
                    return
                result = hm.execute(item.req, stop)
                result.attempts += item.attempts
                if result.unavailable and several:
                    if hm.down:
                        work.leave(hm.host)
                    item.tried.add(hm.host)
                    item.attempts = result.attempts
                    if work.give_back(item):
                        hm.pool.log.warning(f"{item.req.key}: {result.error}; handed to another host")
                        continue
                else:
                    work.done()
                out.put((hm, result))
        except BaseException as exc:
            out.put(_Crash(exc))
        finally:
            out.put(_DONE)

    threads = [
        threading.Thread(target=worker, args=(hm,), name=f"ollama-{hm.norm}-{n}", daemon=True)
        for hm in hosts
        for n in range(workers_per_host)
    ]
    for t in threads:
        t.start()
    finished, last_error = 0, "no Ollama host left to run it"
    try:
        while finished < len(threads):
            item = out.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, _Crash):
                raise item.exc
            else:
                hm, result = item
                hm.requests += 1  # here, in the consuming thread: no two threads count at once
                last_error = result.error if result.unavailable else last_error
                yield result
        for item in work.leftovers():
            yield LLMResult(item.req.key, None, last_error, item.attempts, 0.0, 0, 0, unavailable=True)
    finally:
        stop.set()  # only matters when the caller stopped early or an error escapes
        work.wake()
        for t in threads:
            t.join()
