"""OllamaModels / ModelSession against the Ollama simulator, over HTTP with the real ollama client."""

from __future__ import annotations

import contextlib
import time

import dagster
import pytest

from turing_dagster.dagster_defs.resources import OllamaModels
from turing_dagster.ollama.errors import ModelNotFoundError, OllamaUnavailableError
from turing_dagster.ollama.types import LLMRequest
from turing_dagster.simulator import FaultConfig, ModelProfile, SimulatorConfig, start_simulator

pytestmark = pytest.mark.timeout(60)

A = "gemma3:4b"
B = "qwen2.5"  # untagged: the server reports qwen2.5:latest
OPTIONS = {"temperature": 0, "num_ctx": 2048}


def config(load=0.05, request=0.01, parallel=4, max_loaded=1, faults=None, models=(A, B)) -> SimulatorConfig:
    profile = ModelProfile(load_seconds=load, request_seconds=request, token_seconds=0.0)
    return SimulatorConfig(
        models={m: profile for m in models},
        parallel=parallel,
        max_loaded_models=max_loaded,
        max_queue=512,
        faults=faults or FaultConfig(),
    )


@pytest.fixture
def simulator():
    """simulator(**config kwargs) starts one (on a free port); all are stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda **kw: stack.enter_context(start_simulator(config(**kw), port=0))


def manager(url: str, **kw) -> OllamaModels:
    kw = {"backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05, "request_timeout_seconds": 5.0, **kw}
    return OllamaModels(host=url, **kw)


def asks(n: int, prefix: str = "p", **kw) -> list[LLMRequest]:
    return [
        LLMRequest(
            key=f"{prefix}{i}",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"posting {prefix}{i}"}],
            **kw,
        )
        for i in range(n)
    ]


def events(sim, kind: str, model: str | None = None) -> list[dict]:
    return [e for e in sim.timeline()["events"] if e["type"] == kind and (model is None or e["model"] == model)]


def chat_bodies(sim) -> list[dict]:
    return [r for r in sim.requests() if "messages" in r]


def test_one_load_per_session_kept_for_the_same_model_unloaded_for_another(simulator):
    sim = simulator(load=0.2)
    models = manager(sim.url, residency="exclusive")

    s = models.session(A, OPTIONS)
    results = list(s.run(asks(20, format="json")))
    assert sorted(r.key for r in results) == sorted(f"p{i}" for i in range(20))
    assert all(r.error is None and r.output for r in results)
    assert s.stats.loads == 1 and s.stats.load_seconds >= 0.2
    assert s.stats.requests == 20 and s.stats.failures == 0 and len(s.stats.latencies) == 20
    s.finish(next_model=A)
    assert sim.timeline()["counts"]["loads"] == {A: 1}
    assert models.resident_models() == [A]
    bodies = chat_bodies(sim)
    assert len(bodies) == 20
    assert all(b["options"] == OPTIONS and b["keep_alive"] == "5m" and b["format"] == "json" for b in bodies)

    s2 = models.session(A, OPTIONS)  # the next step on the same model loads nothing
    assert s2.load() == 0.0
    assert all(r.ok for r in s2.run(asks(5)))
    assert s2.stats.loads == 0
    s2.finish(next_model=B)
    assert sim.timeline()["counts"]["loads"] == {A: 1}
    assert models.resident_models() == []
    assert len(events(sim, "unload", A)) == 1


def test_a_session_unloads_the_other_resident_model_before_loading_its_own(simulator):
    sim = simulator(max_loaded=2)  # the server would keep both: the session must unload A itself
    models = manager(sim.url, residency="exclusive")
    s = models.session(A)
    list(s.run(asks(3)))
    s.finish(next_model=A)
    assert models.resident_models() == [A]

    s = models.session(B)
    assert s.load() > 0
    assert models.resident_models() == ["qwen2.5:latest"]
    assert all(r.ok for r in s.run(asks(3)))
    s.finish(next_model="qwen2.5:latest")  # same model, other spelling: kept
    assert models.resident_models() == ["qwen2.5:latest"]
    last_a_unload = events(sim, "unload", A)[-1]
    b_load = events(sim, "load", "qwen2.5:latest")[0]
    assert last_a_unload["end"] <= b_load["start"]


def test_requests_in_flight_never_exceed_slots_per_host(simulator):
    sim = simulator(request=0.05, parallel=4)
    models = manager(sim.url, slots_per_host=3)
    s = models.session(A)
    results = list(s.run(iter(asks(30))))  # a plain iterator is consumed lazily
    assert len({r.key for r in results}) == 30 and all(r.ok for r in results)
    assert sim.timeline()["max_in_flight"][A] == 3


def test_transient_errors_are_retried_and_every_request_completes_once(simulator):
    faults = FaultConfig(error_500_rate=0.15, error_503_rate=0.15, drop_rate=0.1, seed=7)
    sim = simulator(faults=faults)  # the preload is hit by faults too
    models = manager(sim.url, max_attempts=8)
    s = models.session(A)
    results = list(s.run(asks(40)))
    assert sorted(r.key for r in results) == sorted(f"p{i}" for i in range(40))
    assert all(r.error is None and r.output for r in results), [r.error for r in results if r.error]
    assert any(r.attempts > 1 for r in results)
    injected = sim.timeline()["counts"]["faults"]
    assert injected.get("error_500") and injected.get("error_503") and injected.get("drop")
    # attempts counts every HTTP call: it matches what the server received
    assert s.stats.attempts == sum(r.attempts for r in results) == len(chat_bodies(sim)) > 40
    assert sim.timeline()["counts"]["loads"] == {A: 1}


def failing_session(simulator, max_attempts: int):
    """A session with its model loaded, on a simulator that answers every request after that with a 503."""
    sim = simulator()
    s = manager(sim.url, max_attempts=max_attempts).session(A)
    s.load()
    sim.set_faults(FaultConfig(error_503_rate=1.0))
    return sim, s


def test_exhausted_attempts_become_that_request_error(simulator):
    sim, s = failing_session(simulator, max_attempts=3)
    results = list(s.run(asks(4)))
    assert {r.key for r in results} == {"p0", "p1", "p2", "p3"}
    for r in results:
        assert r.output is None and r.attempts == 3
        assert r.error.startswith("transient errors after 3 attempts: HTTP 503")
    assert s.stats.failures == 4


def test_a_requests_own_attempts_override_the_pools(simulator):
    # a conversation's `retries` bound its transient attempts (retries + 1), whatever max_attempts says
    sim, s = failing_session(simulator, max_attempts=5)
    once, thrice = list(s.run(asks(2, "a", attempts=1))), list(s.run(asks(2, "b", attempts=3)))
    assert [r.attempts for r in once] == [1, 1] and [r.attempts for r in thrice] == [3, 3]
    assert len(chat_bodies(sim)) == 2 * 1 + 2 * 3


def test_a_request_hanging_past_the_timeout_is_retried(simulator):
    sim = simulator()
    models = manager(sim.url, request_timeout_seconds=0.5, max_attempts=6)
    s = models.session(A)
    s.load()
    sim.set_faults(FaultConfig(hang_rate=0.3, hang_seconds=3.0, seed=3))
    results = list(s.run(asks(12)))
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert any(r.attempts > 1 for r in results)
    assert sim.timeline()["counts"]["faults"]["hang"] > 0


def test_a_dying_server_gives_errors_not_exceptions(simulator):
    sim = simulator()
    models = manager(sim.url, max_attempts=2)
    s = models.session(A)
    s.load()
    sim.set_faults(FaultConfig(die_after=5))
    started = time.monotonic()
    results = list(s.run(asks(30)))
    assert len(results) == 30
    assert sum(r.ok for r in results) <= 5
    failed = [r for r in results if not r.ok]
    assert failed and all(r.error.startswith("transient errors after") for r in failed)
    assert time.monotonic() - started < 10


def test_a_missing_model_fails_fast_with_one_line_before_any_load(simulator):
    sim = simulator()
    models = manager(sim.url)
    s = models.session("nosuch:1b")
    with pytest.raises(ModelNotFoundError) as err:
        s.ensure_available()
    assert str(err.value) == f"model 'nosuch:1b' not found on {sim.url}"
    with pytest.raises(ModelNotFoundError):
        list(models.session("nosuch:1b").run(asks(3)))
    assert sim.timeline()["events"] == [] and sim.requests() == []


def test_an_unreachable_host_is_one_line_naming_it():
    models = OllamaModels(host="http://127.0.0.1:1")
    with pytest.raises(OllamaUnavailableError) as err:
        models.session(A).ensure_available()
    assert "http://127.0.0.1:1" in str(err.value) and "\n" not in str(err.value)


def test_host_for_routes_models_across_hosts(simulator):
    one = simulator(models=(A,))
    two = simulator(models=(B,))
    models = manager(f"{one.url},{two.url}")
    pool = models.pool()
    assert pool.hosts_for(B) == [two.url]  # listed by the second host's /api/tags
    assert pool.hosts_for(A) == [one.url]
    assert pool.hosts_for("unknown:1b") == [one.url]  # nobody lists it: the first host that answers
    s = models.session("qwen2.5")
    assert s.host == two.url
    assert all(r.ok for r in s.run(asks(2)))
    assert pool.resident_models(two.url) == ["qwen2.5:latest"]
    assert pool.resident_models(one.url) == []


def test_no_model_calls_at_construction_or_session():
    models = OllamaModels(host="http://127.0.0.1:1")
    session = models.session(A, OPTIONS)
    assert session.host == "http://127.0.0.1:1" and session.stats.loads == 0
    session.finish(next_model=None)  # never loaded: a no-op

    @dagster.asset
    def step(ollama: OllamaModels) -> None:
        s = ollama.session(A)
        s.finish(next_model=None)

    assert dagster.materialize([step], resources={"ollama": OllamaModels(host="http://127.0.0.1:1")}).success


def test_release_at_run_end_makes_one_short_try_on_a_hung_server(monkeypatch):
    import socket

    from turing_dagster.ollama import pool as ollama_resource

    monkeypatch.setattr(ollama_resource, "RELEASE_TIMEOUT_SECONDS", 0.3)
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(50)  # accepts connections, never answers
    try:
        models = OllamaModels(
            host=f"http://127.0.0.1:{hung.getsockname()[1]}", request_timeout_seconds=30, residency="exclusive"
        )
        session = models.session("gemma3:4b")
        [held] = session._host_models()
        held.loads, held.ready = 1, True  # as after a step that loaded, then the server hung
        started = time.monotonic()
        models.release()
        # one try at the release timeout, not max_attempts x the 30 s request timeout
        assert time.monotonic() - started < 5
        models.release()  # nothing left to release: no call at all
    finally:
        hung.close()
