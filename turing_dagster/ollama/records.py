"""The engine's own record of its Ollama calls: what a GPU timeline is drawn from, on any server.

The pool owns one `CallRecorder`; sessions record each model load, unload and chat as a `CallRecord`
(wall-clock epoch seconds, so records from several processes and hosts line up). Step code drains the
records when its step ends and hands them on (run log, report).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["load", "unload", "chat"]


@dataclass(frozen=True)
class CallRecord:
    host: str  # normalised, e.g. http://127.0.0.1:11434
    model: str  # normalised, e.g. gemma3:4b, qwen2.5:latest
    kind: Kind
    start: float  # time.time() when the call was sent
    end: float  # time.time() when its answer (or error) came back
    key: str | None = None  # the request's key (posting id) for a chat
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class CallRecorder:
    """A thread-safe list of records; `drain()` hands over what was recorded since the last drain."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._lock = threading.Lock()

    def record(self, host: str, model: str, kind: Kind, start: float, key: str | None = None, ok: bool = True) -> None:
        rec = CallRecord(host, model, kind, start, time.time(), key, ok)
        with self._lock:
            self._records.append(rec)

    def drain(self) -> list[CallRecord]:
        with self._lock:
            records, self._records = self._records, []
        return records
