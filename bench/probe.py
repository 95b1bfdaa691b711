"""A profiler installed in a `turing` child process by bench/boundaries.py: time-stamped stack samples of the
main thread (Dagster's step: each conversation's outputs, checks and events) and of the step's
`turing-conversations` thread (the conversations themselves, back to back), and a few exact spans,
written as JSON when the process ends.

py-spy's speedscope output has no timestamps, so it cannot tell a step boundary from the chats around it;
these samples can (wall-clock epoch seconds, as the engine's call records in `run_steps`). Spans, each
(kind, detail, start, end, thread): every HTTP request the process sends (its path: /api/chat, /api/ps,
/api/tags, /api/show), every process it spawns, every Dagster event it stores (its type).

    python -c "from bench.probe import install; install('out.json'); from turing_dagster.cli import console_main; console_main()" run WF
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from functools import wraps

MAX_DEPTH = 80
THREADS = ("main", "turing-conversations")  # the sampled threads, by name; a sample lists each one alive


class Probe:
    def __init__(self, out: str, interval: float):
        self.out, self.interval = out, interval
        self.started = time.time()
        self.names: dict[str, int] = {}  # "file:function" -> index, so a sample is a tuple of ints
        self.samples: list[tuple[float, dict[str, tuple[int, ...]]]] = []  # (time, {thread: stack})
        self.spans: list[tuple[str, str, float, float, str]] = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="bench-probe", daemon=True)

    def _name(self, code) -> int:
        key = f"{code.co_filename}:{code.co_name}"
        index = self.names.get(key)
        if index is None:
            index = self.names[key] = len(self.names)
        return index

    def _stack(self, frame) -> tuple[int, ...]:
        stack = []
        while frame is not None and len(stack) < MAX_DEPTH:  # innermost first
            stack.append(self._name(frame.f_code))
            frame = frame.f_back
        return tuple(stack)

    def _sample(self) -> None:
        main = threading.main_thread()
        while not self._stop.wait(self.interval):
            frames = sys._current_frames()
            idents = {"main": main.ident}
            for thread in threading.enumerate():  # a run's conversations thread is started by its step
                if thread.name in THREADS[1:]:
                    idents[thread.name] = thread.ident
            self.samples.append((time.time(), {name: self._stack(frames[i]) for name, i in idents.items()
                                               if i in frames}))

    def span(self, kind: str, detail: str, start: float) -> None:
        self.spans.append((kind, detail, start, time.time(), threading.current_thread().name))

    def dump(self) -> None:
        self._stop.set()
        self._sampler.join(timeout=5)  # its last sample's names are in the table written below
        names = sorted(self.names, key=self.names.__getitem__)
        with open(self.out, "w") as f:
            json.dump({"started": self.started, "ended": time.time(), "interval": self.interval, "names": names,
                       "samples": self.samples, "spans": self.spans}, f)


def _wrap(owner, attribute: str, probe: Probe, kind: str, detail) -> None:
    original = getattr(owner, attribute)

    @wraps(original)
    def timed(*args, **kwargs):
        start = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            probe.span(kind, detail(*args, **kwargs), start)

    setattr(owner, attribute, timed)


def _event_type(_instance, event, *args, **kwargs) -> str:
    dagster_event = getattr(event, "dagster_event", None)
    return dagster_event.event_type_value if dagster_event is not None else "log message"


def install(out: str, interval: float = 0.002) -> Probe:
    import httpx
    from dagster._core.instance import DagsterInstance

    probe = Probe(out, interval)
    _wrap(httpx.Client, "send", probe, "http", lambda _client, request, *a, **k: request.url.path)
    _wrap(subprocess.Popen, "__init__", probe, "spawn",
          lambda _self, args, *a, **k: " ".join(os.path.basename(str(x)) for x in args[:2]))
    _wrap(DagsterInstance, "handle_new_event", probe, "dagster event", _event_type)
    probe._sampler.start()
    atexit.register(probe.dump)
    return probe
