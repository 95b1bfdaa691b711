"""How the Python interpreter is tuned while a step's threads share it, and in the `turing` process.

A step runs the Ollama dispatch threads, the conversations thread and Dagster's bookkeeping in one
interpreter, so anything that holds it holds the model's slots too:

- Python passes the GIL on every 5 ms by default: an answer that arrives while another thread holds it
  waits up to that long (half a 10 ms call) before its dispatch thread takes it and sends the next
  request. While a step runs, the threads take turns ten times as often.
- CPython's collector makes a full pass over every object the process holds whenever ten young passes
  have run and the heap grew by a quarter. A Turing process holds Dagster's, SQLAlchemy's and the
  workflows' few hundred thousand long-lived objects, none of them garbage, and each full pass stopped
  every thread for 0.1 to 0.2 s on 2 cores: four in `turing run`'s start-up, two or three during a
  900-posting run. Full passes are made rare (one per `FULL_PASS_EVERY` young passes, some 7 million
  allocations); the young passes, which find the garbage cycles a step makes, run as before.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_SECONDS = 0.0005
FULL_PASS_EVERY = 1000  # CPython's default is 10


def rare_full_passes() -> tuple[int, int, int]:
    """Make the collector's full passes rare (never more often than it is set to); the previous setting."""
    previous = gc.get_threshold()
    young, middle, full = previous
    gc.set_threshold(young, middle, max(full, FULL_PASS_EVERY))
    return previous


@contextmanager
def tuned_for_steps() -> Iterator[None]:
    """While a step's threads run: short GIL turns and rare full collections, both restored after."""
    interval = sys.getswitchinterval()
    thresholds = rare_full_passes()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
