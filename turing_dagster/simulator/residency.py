"""Model residency of the Ollama SIMULATOR: Ollama's scheduler rules, simulated on one asyncio loop.

- Requests wait in one FIFO queue. The head is admitted when its model is resident (or loading) with the
  same ``num_ctx``; otherwise it loads the model, evicting the least recently used idle model when
  ``max_loaded_models`` are resident, or waits (blocking the requests behind it, as Ollama does) until one is idle.
- An admitted request holds a reference (the model cannot be evicted) and then waits for one of ``parallel``
  slots. ``keep_alive`` starts counting when the last reference is released.
- ``num_ctx`` (the effective one, see ``SimulatorConfig.num_ctx_for``) differing from the resident instance's,
  or a new version of the model (``Simulator.repull``), reloads the model (unload "reload" + load).
Everything runs on the simulator's event loop thread, so no locks are needed.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from .config import FOREVER, ModelProfile


class QueueFull(Exception):
    """More than max_queue requests are waiting (Ollama answers 503)."""


class Timeline:
    """What the simulated GPU did: load/unload/inference intervals, counts and peak concurrency per model."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.loads: Counter[str] = Counter()
        self.unloads: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # generate/chat inferences
        self.embeds: Counter[str] = Counter()
        self.truncated: Counter[str] = Counter()  # prompts cut to fit the context (history or runner)
        self.context_rejected: Counter[str] = Counter()  # prompts refused with 400 by the "error" runner
        self.faults: Counter[str] = Counter()
        self.rejected_queue_full = 0
        self.in_flight: defaultdict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = {}

    def load(self, model: str, start: float, end: float, num_ctx: int) -> None:
        self.loads[model] += 1
        self.events.append({"type": "load", "model": model, "start": start, "end": end, "num_ctx": num_ctx})

    def unload(self, model: str, reason: str) -> None:
        now = self.clock()
        self.unloads[model] += 1
        self.events.append({"type": "unload", "model": model, "start": now, "end": now, "reason": reason})

    def begin_inference(self, model: str, kind: str) -> float:
        (self.embeds if kind == "embed" else self.requests)[model] += 1
        self.in_flight[model] += 1
        self.max_in_flight[model] = max(self.max_in_flight.get(model, 0), self.in_flight[model])
        return self.clock()

    def end_inference(self, model: str, start: float, kind: str, cancelled: bool) -> None:
        self.in_flight[model] -= 1
        event = {"type": "inference", "model": model, "start": start, "end": self.clock(), "kind": kind}
        if cancelled:
            event["cancelled"] = True
        self.events.append(event)

    def snapshot(self) -> dict[str, Any]:
        return {
            "simulator": True,
            "events": sorted((dict(e) for e in self.events), key=lambda e: (e["start"], e["end"])),
            "counts": {
                "loads": dict(self.loads),
                "unloads": dict(self.unloads),
                "requests": dict(self.requests),
                "embeds": dict(self.embeds),
                "truncated": dict(self.truncated),
                "context_rejected": dict(self.context_rejected),
                "errors_injected": sum(self.faults.values()),
                "faults": dict(self.faults),
                "rejected_queue_full": self.rejected_queue_full,
            },
            "max_in_flight": dict(self.max_in_flight),
        }


@dataclass(eq=False)
class Instance:
    name: str
    profile: ModelProfile
    num_ctx: int
    slots: asyncio.Semaphore
    state: str = "loading"  # loading -> ready -> unloaded
    refs: int = 0
    keep_alive: float = 300.0
    last_used: float = 0.0
    expires_at: float | None = None  # loop clock; None while busy or kept forever
    unload_reason: str = "expired"
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    timer: asyncio.TimerHandle | None = None
    load_task: asyncio.Task | None = None


@dataclass(eq=False)
class _Ticket:
    model: str
    num_ctx: int
    keep_alive: float
    future: asyncio.Future


@dataclass
class Lease:
    instance: Instance
    load_seconds: float  # time this request spent waiting for its model to be resident


class Residency:
    def __init__(self, *, catalog: dict[str, ModelProfile], parallel: int, max_loaded_models: int,
                 max_queue: int, timeline: Timeline, clock: Callable[[], float]):
        self.catalog = catalog
        self.parallel = max(1, int(parallel))
        self.max_loaded = int(max_loaded_models)
        self.max_queue = int(max_queue)
        self.timeline = timeline
        self.clock = clock
        self.instances: dict[str, Instance] = {}
        self._pending: deque[_Ticket] = deque()
        self.waiting = 0  # requests received that do not hold a slot yet

    # -- requests -----------------------------------------------------------------------------------
    @asynccontextmanager
    async def lease(self, model: str, num_ctx: int, keep_alive: float, *, slot: bool = True,
                    kind: str = "generate") -> AsyncIterator[Lease]:
        """Be admitted for ``model``, wait for it to be resident and (``slot``) hold an inference slot."""
        if self.waiting >= self.max_queue:
            self.timeline.rejected_queue_full += 1
            raise QueueFull()
        loop = asyncio.get_running_loop()
        ticket = _Ticket(model, num_ctx, keep_alive, loop.create_future())
        arrived = self.clock()
        self.waiting += 1
        waiting, instance, has_slot, started, failed = True, None, False, None, False
        try:
            self._pending.append(ticket)
            self._pump()
            instance = await ticket.future
            await instance.ready.wait()
            loaded_after = self.clock() - arrived
            if slot:
                await instance.slots.acquire()
                has_slot = True
                started = self.timeline.begin_inference(model, kind)
            self.waiting -= 1
            waiting = False
            try:
                yield Lease(instance, loaded_after)
            except BaseException:
                failed = True
                raise
        finally:
            if waiting:
                self.waiting -= 1
            if instance is None and ticket.future.done() and not ticket.future.cancelled():
                instance = ticket.future.result()
            if not ticket.future.done():
                ticket.future.cancel()
            if ticket in self._pending:
                self._pending.remove(ticket)
            if started is not None:
                self.timeline.end_inference(model, started, kind, failed)
            if has_slot:
                instance.slots.release()
            if instance is not None:
                self._release(instance)
            self._pump()

    def unload_now(self, model: str) -> None:
        """``keep_alive: 0`` with an empty prompt: unload at once, or as soon as the model is idle."""
        inst = self.instances.get(model)
        if inst is None:
            return
        inst.keep_alive = 0.0
        inst.unload_reason = "requested"
        if inst.refs == 0 and inst.state == "ready":
            self._unload(inst, "requested")
        self._pump()

    def ps(self) -> list[Instance]:
        self.sweep()
        return sorted(self.instances.values(), key=lambda i: -i.last_used)

    def sweep(self) -> None:
        now = self.clock()
        for inst in list(self.instances.values()):
            if inst.refs == 0 and inst.state == "ready" and inst.expires_at is not None and inst.expires_at <= now:
                self._unload(inst, inst.unload_reason)
        self._pump()

    def reset(self) -> None:
        for inst in self.instances.values():
            self._forget(inst)
            inst.ready.set()
        self.instances.clear()

    def close(self) -> None:
        self.reset()
        while self._pending:
            ticket = self._pending.popleft()
            if not ticket.future.done():
                ticket.future.cancel()

    # -- scheduler ----------------------------------------------------------------------------------
    def _pump(self) -> None:
        while self._pending:
            ticket = self._pending[0]
            if ticket.future.done():
                self._pending.popleft()
                continue
            inst = self.instances.get(ticket.model)
            if inst is not None and inst.num_ctx == ticket.num_ctx and inst.profile == self.catalog[ticket.model]:
                self._pending.popleft()
                self._admit(inst, ticket)
                continue
            if inst is not None:  # resident with another num_ctx or version: reload once it is idle
                if inst.refs or inst.state != "ready":
                    return
                self._unload(inst, "reload")
            if 0 < self.max_loaded <= len(self.instances):
                idle = [i for i in self.instances.values() if i.refs == 0 and i.state == "ready"]
                if not idle:
                    return  # wait for a busy model to finish; requests behind wait too
                self._unload(min(idle, key=lambda i: i.last_used), "evicted")
                continue
            self._start_load(ticket)

    def _admit(self, inst: Instance, ticket: _Ticket) -> None:
        inst.refs += 1
        inst.keep_alive = ticket.keep_alive
        inst.unload_reason = "expired"
        inst.last_used = self.clock()
        inst.expires_at = None
        if inst.timer is not None:
            inst.timer.cancel()
            inst.timer = None
        ticket.future.set_result(inst)

    def _start_load(self, ticket: _Ticket) -> None:
        profile = self.catalog[ticket.model]
        inst = Instance(ticket.model, profile, ticket.num_ctx, asyncio.Semaphore(self.parallel),
                        last_used=self.clock())
        self.instances[ticket.model] = inst
        inst.load_task = asyncio.get_running_loop().create_task(self._load(inst))

    async def _load(self, inst: Instance) -> None:
        start = self.clock()
        try:
            if inst.profile.load_seconds > 0:
                await asyncio.sleep(inst.profile.load_seconds)
        finally:
            inst.ready.set()
        if self.instances.get(inst.name) is not inst:
            return  # reset while loading
        inst.state = "ready"
        self.timeline.load(inst.name, start, self.clock(), inst.num_ctx)
        if inst.refs == 0:
            self._became_idle(inst)
        self._pump()

    def _release(self, inst: Instance) -> None:
        inst.refs -= 1
        inst.last_used = self.clock()
        if self.instances.get(inst.name) is inst and inst.refs == 0 and inst.state == "ready":
            self._became_idle(inst)

    def _became_idle(self, inst: Instance) -> None:
        if inst.keep_alive <= 0:
            self._unload(inst, inst.unload_reason)
        elif inst.keep_alive == FOREVER:
            inst.expires_at = None
        else:
            inst.expires_at = self.clock() + inst.keep_alive
            inst.timer = asyncio.get_running_loop().call_later(inst.keep_alive, self._on_timer, inst)

    def _on_timer(self, inst: Instance) -> None:
        inst.timer = None
        if self.instances.get(inst.name) is inst:
            self.sweep()

    def _unload(self, inst: Instance, reason: str) -> None:
        self._forget(inst)
        del self.instances[inst.name]
        self.timeline.unload(inst.name, reason)

    @staticmethod
    def _forget(inst: Instance) -> None:
        inst.state = "unloaded"
        if inst.timer is not None:
            inst.timer.cancel()
            inst.timer = None
        if inst.load_task is not None and not inst.load_task.done():
            inst.load_task.cancel()
