"""The Ollama SIMULATOR over HTTP, driven by the real ``ollama.Client`` (no patching)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import jsonschema
import ollama
import pytest

from turing_dagster.simulator import FaultConfig, ModelProfile, SimulatorConfig, start_simulator

pytestmark = pytest.mark.timeout(60)

G2, G3 = "gemma2:latest", "gemma3:4b"
POSTING = ("Acme Analytics is a data consultancy in Berlin. We are hiring a Senior Data Engineer.\n"
           "What you will do\n- Build pipelines in Python and SQL\n- Run Kafka on AWS\n- Mentor juniors\n"
           "What you bring\n- Experience with Spark\n- Knowledge of Docker\n- Communication skills")


def config(load=0.02, request=0.01, token=0.0, **kw) -> SimulatorConfig:
    profile = ModelProfile(load_seconds=load, request_seconds=request, token_seconds=token)
    return SimulatorConfig(models={"gemma3:4b": ModelProfile(), "gemma2": ModelProfile(), "qwen2.5": ModelProfile()},
                           default_profile=profile, **kw)


_cleanup = contextlib.ExitStack()


@pytest.fixture
def simulator():
    """simulator(**config kwargs) -> a running simulator on a free port; it and its clients stop after the test."""
    with _cleanup:
        yield lambda **kw: _cleanup.enter_context(start_simulator(config(**kw), host="127.0.0.1", port=0))


def client(sim, **kw) -> ollama.Client:
    """The real ollama client; closed (with the simulators) at the end of the test."""
    return _cleanup.enter_context(ollama.Client(host=sim.url, **kw))


def status_of(fn) -> int:
    try:
        fn()
        return 200
    except ollama.ResponseError as exc:
        return exc.status_code


def test_generate_and_chat_answer_with_ollama_fields(simulator):
    sim = simulator()
    c = client(sim)
    r = c.generate(model="gemma2", prompt="Summarise this posting:\n" + POSTING, options={"temperature": 0})
    assert r.model == "gemma2" and r.done and r.done_reason == "stop"
    assert r.response.startswith("Role: Senior Data Engineer\nSummary: Acme Analytics is a data consultancy")
    assert r.prompt_eval_count == pytest.approx(len("Summarise this posting:\n" + POSTING) / 4, abs=1)
    assert r.eval_count == pytest.approx(len(r.response) / 4, abs=1)
    assert r.load_duration > 0.02e9 and r.total_duration >= r.load_duration + 0.01e9
    assert r.prompt_eval_duration > 0 and r.eval_duration > 0
    datetime.fromisoformat(r.created_at)
    m = c.chat(model="gemma2:latest", messages=[{"role": "system", "content": "You grade summaries."},
                                                 {"role": "user", "content": "Answer PASS or FAIL.\n" + POSTING}])
    assert m.message.role == "assistant" and m.message.content.split(":")[0] in {"PASS", "FAIL"}
    assert m.done_reason == "stop" and m.eval_count >= 1
    assert sim.timeline()["counts"] == {**sim.timeline()["counts"], "loads": {G2: 1}, "requests": {G2: 2}}


def test_streaming_yields_the_same_answer_in_ndjson_chunks(simulator):
    sim = simulator()
    c = client(sim)
    prompt = "Summarise this posting:\n" + POSTING
    whole = c.generate(model="gemma2", prompt=prompt).response
    parts = list(c.generate(model="gemma2", prompt=prompt, stream=True))
    assert len(parts) > 3 and all(not p.done for p in parts[:-1])
    assert parts[-1].done and parts[-1].done_reason == "stop" and parts[-1].eval_count >= 1
    assert "".join(p.response for p in parts) == whole
    chunks = list(c.chat(model="gemma2", messages=[{"role": "user", "content": prompt}], stream=True))
    assert "".join(ch.message.content for ch in chunks) == whole and chunks[-1].done
    with httpx.Client(base_url=sim.url) as raw:  # Ollama streams by default
        lines = raw.post("/api/generate", json={"model": "gemma2", "prompt": prompt}).text.strip().split("\n")
    assert len(lines) == len(parts) and json.loads(lines[-1])["done"] is True


def test_tags_show_version_embed_and_the_simulator_names_itself(simulator):
    sim = simulator()
    c = client(sim)
    assert [m.model for m in c.list().models] == [G3, G2, "qwen2.5:latest"]
    shown = c.show("gemma2")
    assert shown.details.family == "gemma" and shown.modelinfo["general.simulator"] is True
    assert "SIMULAT" in shown.modelfile
    with httpx.Client(base_url=sim.url) as raw:
        assert "SIMULATOR" in raw.get("/api/version").json()["version"]
        assert "SIMULATOR" in raw.get("/").text
    e = c.embed(model="gemma3:4b", input=["a posting", "another"])
    assert len(e.embeddings) == 2 and len(e.embeddings[0]) == 384 and e.embeddings[0] != e.embeddings[1]
    assert c.embed(model="gemma3:4b", input="a posting").embeddings[0] == e.embeddings[0]
    assert sum(v * v for v in e.embeddings[0]) == pytest.approx(1.0, abs=1e-3)
    assert len(c.embeddings(model="gemma3:4b", prompt="x").embedding) == 384
    assert c.pull("gemma2").status == "success"


def test_an_unknown_model_is_404_like_ollama(simulator):
    sim = simulator()
    c = client(sim)
    for call in (lambda: c.generate(model="nosuch:1b", prompt="x"), lambda: c.chat(model="nosuch", messages=[]),
                 lambda: c.show("nosuch"), lambda: c.embed(model="nosuch", input="x")):
        with pytest.raises(ollama.ResponseError) as err:
            call()
        assert err.value.status_code == 404
    assert err.value.error == 'model "nosuch" not found, try pulling it first'
    assert sim.timeline()["events"] == []


def test_an_empty_prompt_loads_and_keep_alive_zero_unloads(simulator):
    sim = simulator(load=0.1)
    c = client(sim)
    started = time.monotonic()
    r = c.generate(model="gemma2", options={"num_ctx": 8192})
    assert r.done_reason == "load" and time.monotonic() - started >= 0.1
    (m,) = c.ps().models
    assert (m.name, m.model, m.context_length, m.size_vram) == (G2, G2, 8192, m.size)
    left = (m.expires_at - datetime.now(UTC)).total_seconds()
    assert 290 < left <= 300  # default keep_alive 5m
    assert c.chat(model="gemma2", messages=[], options={"num_ctx": 8192}).done_reason == "load"
    assert c.generate(model="gemma2", keep_alive=0).done_reason == "unload"
    assert c.ps().models == []
    t = sim.timeline()
    assert t["counts"]["loads"] == {G2: 1} and t["counts"]["unloads"] == {G2: 1}
    assert t["counts"]["requests"] == {} and t["events"][-1]["reason"] == "requested"
    assert [b["endpoint"] for b in sim.requests()] == ["generate", "chat", "generate"]


def test_keep_alive_durations_expire_and_negative_is_forever(simulator):
    sim = simulator()
    c = client(sim)
    c.generate(model="gemma2", prompt="hello", keep_alive="300ms")
    assert [m.model for m in c.ps().models] == [G2]
    time.sleep(0.45)
    assert c.ps().models == []
    assert sim.timeline()["events"][-1] | {"start": 0, "end": 0} == {
        "type": "unload", "model": G2, "reason": "expired", "start": 0, "end": 0}
    c.generate(model="gemma2", prompt="hello", keep_alive=-1)
    assert c.ps().models[0].expires_at.year > 2100
    c.generate(model="gemma2", prompt="hello", keep_alive=0)  # unloads after the request
    assert c.ps().models == []


def test_max_loaded_models_evicts_the_least_recently_used_idle_model(simulator):
    sim = simulator(max_loaded_models=1)
    c = client(sim)
    for model in ("gemma2", "gemma3:4b", "gemma2"):
        c.generate(model=model, prompt="hi")
    counts = sim.timeline()["counts"]
    assert counts["loads"] == {G2: 2, G3: 1} and counts["unloads"] == {G2: 1, G3: 1}
    assert [m.model for m in c.ps().models] == [G2]
    sim = simulator(max_loaded_models=2)
    c = client(sim)
    for model in ("gemma2", "gemma3:4b", "gemma2", "qwen2.5"):
        c.generate(model=model, prompt="hi")
    unloads = [e for e in sim.timeline()["events"] if e["type"] == "unload"]
    assert [(e["model"], e["reason"]) for e in unloads] == [(G3, "evicted")]
    assert sorted(m.model for m in c.ps().models) == [G2, "qwen2.5:latest"]


def test_a_load_waits_for_the_busy_model_it_must_evict(simulator):
    sim = simulator(request=0.3, max_loaded_models=1)
    c = client(sim)
    with ThreadPoolExecutor(2) as pool:
        busy = pool.submit(c.generate, model="gemma2", prompt="slow")
        time.sleep(0.1)
        other = pool.submit(c.generate, model="gemma3:4b", prompt="next")
        busy.result(), other.result()
    events = sim.timeline()["events"]
    g2_done = next(e["end"] for e in events if e["type"] == "inference" and e["model"] == G2)
    g3_load = next(e for e in events if e["type"] == "load" and e["model"] == G3)
    assert g3_load["start"] >= g2_done - 1e-3


def test_concurrent_requests_for_an_unloaded_model_share_one_load(simulator):
    sim = simulator(load=0.2)
    c = client(sim)
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda i: c.generate(model="gemma2", prompt=f"q{i}"), range(5)))
    assert sim.timeline()["counts"]["loads"] == {G2: 1}


def test_a_different_num_ctx_reloads_the_model(simulator):
    sim = simulator()
    c = client(sim)
    c.generate(model="gemma2", options={"num_ctx": 8192})
    c.generate(model="gemma2:latest", prompt="same ctx", options={"num_ctx": 8192})
    assert sim.timeline()["counts"]["loads"] == {G2: 1}
    c.generate(model="gemma2", prompt="bigger", options={"num_ctx": 16384})
    assert c.ps().models[0].context_length == 16384
    t = sim.timeline()
    assert t["counts"]["loads"] == {G2: 2} and t["counts"]["unloads"] == {G2: 1}
    assert [(e["type"], e.get("num_ctx") or e.get("reason")) for e in t["events"] if e["type"] != "inference"] == [
        ("load", 8192), ("unload", "reload"), ("load", 16384)]


def test_parallel_slots_are_never_exceeded_and_the_rest_queue(simulator):
    sim = simulator(request=0.15, parallel=3)
    c = client(sim)
    c.generate(model="gemma2")
    started = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda i: c.generate(model="gemma2", prompt=f"posting {i}").response, range(12)))
    wall = time.monotonic() - started
    assert len(set(answers)) == 12
    assert sim.timeline()["max_in_flight"] == {G2: 3}
    assert wall >= 4 * 0.15 - 0.02  # queued in four waves of three: never faster than that


def test_a_full_queue_answers_503(simulator):
    sim = simulator(load=0.0, request=1.5, parallel=1, max_queue=2)
    c = client(sim)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(status_of, lambda: c.generate(model="gemma2", prompt="first"))
        time.sleep(0.5)  # the first holds the only slot (1.5 s); the next five find it busy
        rest = list(pool.map(lambda i: status_of(lambda: c.generate(model="gemma2", prompt=f"{i}")), range(5)))
        statuses = [first.result(), *rest]
    assert sorted(statuses) == [200, 200, 200, 503, 503, 503]
    assert sim.timeline()["counts"]["rejected_queue_full"] == 3


def test_injected_500_and_503_errors_are_seeded_and_counted(simulator):
    sim = simulator(faults=FaultConfig(error_500_rate=1.0))
    c = client(sim)
    assert status_of(lambda: c.generate(model="gemma2", prompt="x")) == 500
    sim.set_faults(FaultConfig(error_503_rate=1.0))
    assert status_of(lambda: c.chat(model="gemma2", messages=[{"role": "user", "content": "x"}])) == 503
    sim.set_faults(FaultConfig(error_500_rate=0.3, error_503_rate=0.3, seed=42))
    first = [status_of(lambda: c.generate(model="gemma2", prompt="x")) for _ in range(20)]
    assert {200, 500, 503} == set(first)
    sim.reset()
    assert [status_of(lambda: c.generate(model="gemma2", prompt="x")) for _ in range(20)] == first
    counts = sim.timeline()["counts"]
    assert counts["errors_injected"] == first.count(500) + first.count(503)
    assert counts["faults"] == {"error_500": first.count(500), "error_503": first.count(503)}


def test_die_after_n_requests_the_server_drops_and_refuses_until_reset(simulator):
    sim = simulator(faults=FaultConfig(die_after=2))
    c = client(sim)
    c.generate(model="gemma2", prompt="one")
    c.generate(model="gemma2", prompt="two")
    with pytest.raises((httpx.TransportError, ConnectionError)):
        c.generate(model="gemma2", prompt="three")
    with pytest.raises(ConnectionError):
        client(sim).ps()
    assert sim.timeline()["counts"]["faults"] == {"die": 1}
    sim.set_faults(FaultConfig())
    sim.reset()
    assert client(sim).generate(model="gemma2", prompt="back").done


def test_dropped_and_hanging_responses_fail_on_the_client(simulator):
    sim = simulator(faults=FaultConfig(drop_rate=1.0))
    c = client(sim)
    with pytest.raises(httpx.RemoteProtocolError):
        c.generate(model="gemma2", prompt="Why is the sky blue and the grass green?")
    with pytest.raises(httpx.RemoteProtocolError):
        list(c.generate(model="gemma2", prompt="Why is the sky blue and the grass green?", stream=True))
    sim.set_faults(FaultConfig(hang_rate=1.0, hang_seconds=30))
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        client(sim, timeout=0.3).generate(model="gemma2", prompt="x")
    assert time.monotonic() - started < 2
    assert sim.timeline()["counts"]["faults"] == {"drop": 2, "hang": 1}


def test_bad_answers_are_injected_but_a_retry_that_complains_gets_a_proper_one(simulator):
    sim = simulator(faults=FaultConfig(bad_answer_rate=1.0))
    c = client(sim)
    ask = [{"role": "user", "content": "List the skills.\n" + POSTING}]
    bad = c.chat(model="gemma2", messages=ask, format="json").message.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad)
    retry = [*ask, {"role": "assistant", "content": bad},
             {"role": "user", "content": "Your previous answer was invalid JSON. Try again."}]
    assert json.loads(c.chat(model="gemma2", messages=retry, format="json").message.content)["skills"]
    assert sim.timeline()["counts"]["faults"] == {"bad_answer": 2}


def test_json_schema_answers_validate_and_requests_are_recorded(simulator):
    sim = simulator()
    c = client(sim)
    schema = {"type": "object", "required": ["skills", "score"], "properties": {
        "skills": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "score": {"type": "integer", "minimum": 1, "maximum": 10}}}
    body = {"model": "gemma3:4b", "format": schema, "options": {"num_ctx": 4096}, "keep_alive": "10m",
            "messages": [{"role": "system", "content": "You extract skills."},
                         {"role": "user", "content": "List the skills.\n" + POSTING}]}
    first = c.chat(**body).message.content
    value = json.loads(first)
    jsonschema.validate(value, schema)
    assert {"Python", "SQL", "Kafka", "AWS"} <= set(value["skills"])
    assert c.chat(**body).message.content == first  # deterministic
    assert json.loads(c.generate(model="gemma2", prompt="Score it: " + POSTING, format="json").response)
    recorded = sim.requests()
    assert [r["endpoint"] for r in recorded] == ["chat", "chat", "generate"]
    assert recorded[0]["format"] == schema and recorded[0]["keep_alive"] == "10m"
    assert recorded[0]["options"]["num_ctx"] == 4096 and recorded[0]["messages"] == body["messages"]


def test_the_sim_endpoints_mirror_the_python_api(simulator):
    sim = simulator()
    client(sim).generate(model="gemma2", prompt="hi")
    with httpx.Client(base_url=sim.url) as raw:
        assert raw.get("/sim/timeline").json() == sim.timeline()
        assert raw.get("/sim/requests").json() == sim.requests()
        assert raw.post("/sim/faults", json={"error_503_rate": 1.0}).json()["error_503_rate"] == 1.0
        assert raw.post("/api/generate", json={"model": "gemma2", "prompt": "x", "stream": False}).status_code == 503
        assert raw.post("/sim/faults", json={"nonsense": 1}).status_code == 400
        assert raw.post("/sim/reset").status_code == 200
    assert sim.requests() == [] and sim.timeline()["events"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_cli_announces_itself_serves_and_stops_on_sigterm():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "turing_dagster.simulator.cli", "--port", str(port),
               "--models", "gemma2,qwen2.5:7b", "--parallel", "2", "--context-length", "64", "--truncation",
               "go-runner", "--chars-per-token", "2"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            line = proc.stdout.readline().strip()
            assert line == ("Ollama SIMULATOR (stand-in for tests, demos and benchmarks; not a model server) "
                            f"listening on http://127.0.0.1:{port}")
            with ollama.Client(host=f"http://127.0.0.1:{port}") as c:
                assert [m.model for m in c.list().models] == [G2, "qwen2.5:7b"]
                assert c.generate(model="qwen2.5:7b", prompt="hi").done
                assert c.ps().models[0].context_length == 64
                assert c.generate(model="qwen2.5:7b", prompt="x" * 200).prompt_eval_count == 64  # 100 tokens, cut
            proc.terminate()
            assert proc.wait(10) == 0
            assert proc.stderr.read() == ""
        finally:
            proc.kill()


def test_the_cli_help_says_it_is_a_stand_in_and_a_bad_truncation_is_one_line():
    cli = [sys.executable, "-m", "turing_dagster.simulator.cli"]
    shown = subprocess.run([*cli, "--help"], capture_output=True, text=True, timeout=30, check=True).stdout
    shown = " ".join(shown.split())  # click wraps the help
    assert "A stand-in for the GPU server" in shown and "--vram-gib" in shown and "--context-length" in shown
    bad = subprocess.run([*cli, "--truncation", "shift"], capture_output=True, text=True, timeout=30, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "Invalid value for '--truncation': 'shift' is not one of" in bad.stderr


def test_the_cli_on_a_busy_port_is_one_line_and_exit_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "turing_dagster.simulator.cli", "--port", str(port)],
                              capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: port already in use"]
