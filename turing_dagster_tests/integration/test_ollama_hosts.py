"""A step's requests shared across Ollama hosts, over HTTP to simulator hosts with the real client."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections import Counter

import pytest

from turing_dagster.ollama.errors import OllamaUnavailableError
from turing_dagster.simulator import FaultConfig, start_simulator
from turing_dagster_tests.integration.test_ollama_resource import A, B, asks, config, events, manager

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sims():
    """sims(**config kwargs) starts one simulator host (on a free port); all stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda **kw: stack.enter_context(start_simulator(config(**kw), port=0))


def closed_port() -> str:
    """A loopback address where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def chats(sim) -> int:
    return sum(1 for r in sim.requests() if "messages" in r)


def test_a_step_is_shared_by_every_host_serving_its_model_each_loading_once(sims):
    one, two = sims(request=0.02), sims(request=0.02)
    models = manager(f"{one.url},{two.url}", slots_per_host=2)
    s = models.session(A)
    assert s.hosts == [one.url, two.url]
    results = list(s.run(asks(40)))
    assert sorted(r.key for r in results) == sorted(f"p{i}" for i in range(40)) and all(r.ok for r in results)
    assert chats(one) > 0 and chats(two) > 0 and chats(one) + chats(two) == 40
    for sim in (one, two):
        assert sim.timeline()["counts"]["loads"] == {A: 1}
        assert sim.timeline()["max_in_flight"][A] <= 2
    assert s.stats.loads == 2 and s.stats.host_loads == {one.url: 1, two.url: 1}
    assert s.stats.host_requests == {one.url: chats(one), two.url: chats(two)}
    assert s.host == one.url  # the primary host, for messages
    # a second run() (the next turn, the next chunk) loads nothing anywhere
    assert all(r.ok for r in s.run(asks(10, prefix="q")))
    assert s.stats.loads == 2 and chats(one) + chats(two) == 50


def test_only_hosts_listing_the_model_get_its_requests(sims):
    one, two = sims(models=(A,)), sims(models=(A, B))
    models = manager(f"{one.url},{two.url}")
    s = models.session(B)
    assert s.hosts == [two.url]
    assert all(r.ok for r in s.run(asks(8)))
    assert chats(one) == 0 and chats(two) == 8


def test_a_slow_host_is_handed_fewer_requests(sims):
    fast, slow = sims(request=0.01), sims(request=0.2)
    models = manager(f"{slow.url},{fast.url}", slots_per_host=2)
    results = list(models.session(A).run(asks(80)))
    assert len(results) == 80 and all(r.ok for r in results)
    assert chats(fast) > 2 * chats(slow) > 0


def test_a_host_failing_every_call_gives_its_requests_to_the_others(sims, caplog):
    good, bad = sims(), sims()
    models = manager(f"{bad.url},{good.url}", max_attempts=2)
    s = models.session(A)
    s.load()  # both load; then one host breaks down
    bad.set_faults(FaultConfig(error_503_rate=1.0))
    with caplog.at_level(logging.WARNING):
        results = list(s.run(asks(20)))
    assert sorted(r.key for r in results) == sorted(f"p{i}" for i in range(20))
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert chats(good) == 20 and chats(bad) > 0 and s.stats.host_requests[bad.url] == 0
    assert any("handed to another host" in m for m in caplog.messages)
    # attempts count the calls on both hosts
    assert sum(r.attempts for r in results) == chats(good) + chats(bad)


def test_a_host_that_is_down_is_left_out_with_a_warning(sims, caplog):
    sim = sims()
    down = closed_port()
    models = manager(f"{down},{sim.url}")
    with caplog.at_level(logging.WARNING):
        s = models.session(A)
        assert s.hosts == [sim.url]
        assert all(r.ok for r in s.run(asks(6)))
    assert any(down in m and "left out" in m for m in caplog.messages)
    assert models.resident_models() == [A]  # the down host skipped here too


def test_a_host_dying_mid_step_leaves_the_rest_to_the_others(sims):
    one, two = sims(request=0.02), sims(request=0.02)
    models = manager(f"{one.url},{two.url}", max_attempts=2)
    s = models.session(A)
    s.load()
    one.set_faults(FaultConfig(die_after=3))
    results = list(s.run(asks(40)))
    assert sorted(r.key for r in results) == sorted(f"p{i}" for i in range(40))
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert s.stats.host_requests[one.url] <= 3


def test_every_host_down_is_one_line_naming_them():
    first, second = closed_port(), closed_port()
    models = manager(f"{first},{second}")
    with pytest.raises(OllamaUnavailableError) as err:
        models.session(A).ensure_available()
    text = str(err.value)
    assert text.startswith("no Ollama host answers: ") and first in text and second in text and "\n" not in text


def test_residency_applies_per_host(sims):
    one, two = sims(max_loaded=3), sims(max_loaded=3)
    models = manager(f"{one.url},{two.url}", residency="exclusive")
    for model in (A, B):
        s = models.session(model)
        assert all(r.ok for r in s.run(asks(4, prefix=model)))
        s.finish(next_model=None)
    for sim in (one, two):
        assert sim.timeline()["counts"]["loads"] == {A: 1, "qwen2.5:latest": 1}
        assert len(events(sim, "unload")) == 2
    shared = manager(f"{one.url},{two.url}")
    for model in (A, B, A):
        s = shared.session(model)
        assert all(r.ok for r in s.run(asks(2, prefix=model)))
        s.finish(next_model=None)
    for sim in (one, two):  # loaded once more each, kept side by side
        assert sim.timeline()["counts"]["loads"] == {A: 2, "qwen2.5:latest": 2}
    assert Counter(shared.resident_models()) == Counter([A, "qwen2.5:latest"])


def test_a_hung_host_is_left_out_after_the_control_deadline(sims, caplog):
    sim = sims()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(50)  # accepts connections, never answers
    url = f"http://127.0.0.1:{hung.getsockname()[1]}"
    try:
        models = manager(f"{url},{sim.url}", control_timeout_seconds=0.2, request_timeout_seconds=60)
        with caplog.at_level(logging.WARNING):
            s = models.session(A)
            assert s.hosts == [sim.url]
        assert all(r.ok for r in s.run(asks(4)))
        assert any(url in m and "timed out" in m for m in caplog.messages)
    finally:
        hung.close()
