"""Residency by capacity, call deadlines, retryable failures and call records, over HTTP to the simulator."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from turing_dagster.ollama.errors import OllamaError
from turing_dagster.simulator import FaultConfig, start_simulator
from turing_dagster_tests.integration.test_ollama_resource import A, B, asks, config, events, manager

pytestmark = pytest.mark.timeout(60)
C = "gemma2"
WORKFLOW = (A, B, C)  # one step per model


@pytest.fixture
def sims():
    with contextlib.ExitStack() as stack:
        yield lambda **kw: stack.enter_context(start_simulator(config(models=WORKFLOW, **kw), port=0))


def wave(models, prefix: str) -> None:
    """One run of a three-step workflow: each step on its model, then the run's release."""
    for i, model in enumerate(WORKFLOW):
        s = models.session(model)
        assert all(r.ok for r in s.run(asks(4, prefix=f"{prefix}{i}")))
        s.finish(next_model=WORKFLOW[i + 1] if i + 1 < len(WORKFLOW) else None)
    models.release()


def loads(sim) -> int:
    return len(events(sim, "load"))


@pytest.mark.parametrize(("max_loaded", "first", "second"), [(3, 3, 0), (1, 3, 3)])
def test_shared_residency_keeps_what_the_server_holds(sims, max_loaded, first, second):
    sim = sims(max_loaded=max_loaded)
    wave(manager(sim.url), "a")
    assert loads(sim) == first
    wave(manager(sim.url), "b")  # the next run, a minute later
    assert loads(sim) - first == second
    explicit = [b for b in sim.requests() if b.get("keep_alive") in (0, "0")]
    assert explicit == []  # never an unload: the server evicted what it could not hold
    assert len(manager(sim.url).resident_models()) == max_loaded


def test_exclusive_residency_unloads_before_each_load_and_at_the_end(sims):
    sim = sims(max_loaded=3)
    for prefix in "ab":
        wave(manager(sim.url, residency="exclusive"), prefix)
    assert loads(sim) == 6 and len(events(sim, "unload")) == 6
    assert manager(sim.url).resident_models() == []


def test_keep_alive_is_sent_with_every_load_and_chat(sims):
    sim = sims()
    s = manager(sim.url, keep_alive="7m").session(A)
    assert all(r.ok for r in s.run(asks(3)))
    assert [b["keep_alive"] for b in sim.requests()] == ["7m"] * 4  # the load, then three chats


def test_a_session_records_its_loads_unloads_and_chats(sims):
    sim = sims(max_loaded=1)
    models = manager(sim.url, residency="exclusive", max_attempts=1)
    s = models.session(A)
    list(s.run(asks(5)))
    s.finish(next_model=B)
    s = models.session("qwen2.5")
    s.load()
    sim.set_faults(FaultConfig(error_500_rate=1.0))
    [failed] = list(s.run(asks(1, prefix="x")))
    records = models.drain_call_records()
    assert models.drain_call_records() == []  # drained
    kinds = [(r.kind, r.model) for r in records]
    assert kinds[0] == ("load", A) and kinds[-2:] == [("load", "qwen2.5:latest"), ("chat", "qwen2.5:latest")]
    assert ("unload", A) in kinds
    chats = [r for r in records if r.kind == "chat" and r.model == A]
    assert sorted(r.key for r in chats) == [f"p{i}" for i in range(5)] and all(r.ok for r in chats)
    assert records[-1].key == "x0" and not records[-1].ok and not failed.ok
    assert all(r.host == sim.url and r.start <= r.end for r in records)
    load = records[0]
    assert all(c.start >= load.end for c in chats)  # chats only after the load answered


def test_shared_residency_records_what_the_server_evicted_as_an_unload(sims):
    sim = sims(max_loaded=1)
    models = manager(sim.url)  # shared: the engine never unloads, the server makes room itself
    wave(models, "a")
    kinds = [(r.kind, r.model) for r in models.drain_call_records() if r.kind != "chat"]
    # each load after the first pushed the previous model out: the timeline must not show it resident
    assert kinds == [("load", A), ("load", "qwen2.5:latest"), ("unload", A),
                     ("load", "gemma2:latest"), ("unload", "qwen2.5:latest")]
    assert len(events(sim, "unload")) == 2  # the simulator's own evictions, the same two


@contextlib.contextmanager
def hung_server():
    """A socket that accepts connections and never reads or answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_a_hung_server_fails_the_step_in_one_line_within_the_control_deadline():
    with hung_server() as url:
        models = manager(url, control_timeout_seconds=0.3, max_attempts=2, request_timeout_seconds=60)
        started = time.monotonic()
        with pytest.raises(OllamaError) as err:
            models.session(A).ensure_available()
        elapsed = time.monotonic() - started
    text = str(err.value)
    assert text == f"show {A} on {url} failed: timed out (ReadTimeout)"
    assert elapsed < 10  # two control deadlines and a backoff, not the 60 s chat deadline


def test_a_hung_chat_ends_at_the_request_deadline_as_retryable(sims):
    sim = sims()
    models = manager(sim.url, request_timeout_seconds=0.3, max_attempts=2)
    s = models.session(A)
    s.load()
    sim.set_faults(FaultConfig(hang_rate=1.0, hang_seconds=30))
    results = list(s.run(asks(3)))
    assert all(r.unavailable and "timed out" in r.error and sim.url in r.error for r in results)


def test_server_failures_are_retryable_request_failures_are_not(sims):
    sim = sims()
    models = manager(sim.url, max_attempts=2)
    s = models.session(A)
    s.load()
    sim.set_faults(FaultConfig(error_500_rate=1.0))
    [r500] = list(s.run(asks(1)))
    assert r500.error.startswith("transient errors after 2 attempts: HTTP 500") and r500.unavailable
    sim.set_faults(FaultConfig())
    # the same model, resident already: a chat with a keep_alive the server refuses is a 400
    bad = manager(sim.url, keep_alive="soon").session(A)
    [r400] = list(bad.run(asks(1, prefix="q")))
    assert r400.error.startswith("ollama error: HTTP 400") and not r400.unavailable and r400.attempts == 1
