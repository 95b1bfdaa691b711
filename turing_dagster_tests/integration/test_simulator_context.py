"""The Ollama SIMULATOR's context window over HTTP, driven by the real ``ollama.Client``: default context,
training cap, prompts cut (or refused) as Ollama cuts them, model versions, odd characters in answers."""

from __future__ import annotations

import contextlib
import json

import httpx
import jsonschema
import ollama
import pytest

from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.simulator.answers import build_answer
from turing_dagster.simulator.config import model_digest
from turing_dagster.simulator.context import CONTEXT_ERROR

pytestmark = pytest.mark.timeout(60)

G2 = "gemma2:latest"
CTX = {"num_ctx": 256}
# 256 tokens at 4 characters a token; numbered words show which part the model saw
WORDS = "".join(f"w{i:04d} " for i in range(200))[:1024]
SCHEMA = {"type": "object", "required": ["skills"], "properties": {"skills": {"type": "array", "items": {"type": "string"}}}}


@pytest.fixture
def simulator():
    """simulator(**SimulatorConfig kwargs) -> (handle, ollama client); both stop after the test."""
    with contextlib.ExitStack() as stack:
        def start(models=None, **kw):
            config = SimulatorConfig(models=models or {"gemma2": ModelProfile()},
                                     default_profile=ModelProfile(load_seconds=0.0, request_seconds=0.0), **kw)
            sim = stack.enter_context(start_simulator(config, port=0))
            return sim, stack.enter_context(ollama.Client(host=sim.url))
        yield start


def last_sim(sim) -> dict:
    return sim.requests()[-1]["_sim"]


@pytest.mark.parametrize(("kw", "profile", "options", "expected"), [
    ({}, ModelProfile(), None, 4096),  # 8 GiB: below the 23 GiB tier
    ({"vram_gib": 24.0}, ModelProfile(), None, 32768),
    ({"vram_gib": 48.0}, ModelProfile(train_ctx=1 << 20), None, 262144),
    ({"vram_gib": 48.0}, ModelProfile(), None, 32768),  # 262144 capped at the training context
    ({"vram_gib": 48.0, "context_length": 2048}, ModelProfile(), None, 2048),  # OLLAMA_CONTEXT_LENGTH
    ({}, ModelProfile(num_ctx=12288), None, 12288),  # the Modelfile's PARAMETER num_ctx
    ({}, ModelProfile(num_ctx=12288), {"num_ctx": 8192}, 8192),
    ({}, ModelProfile(train_ctx=16384), {"num_ctx": 65536}, 16384),
])
def test_api_ps_shows_the_effective_context(simulator, kw, profile, options, expected):
    sim, c = simulator(models={"gemma2": profile}, **kw)
    c.generate(model="gemma2", prompt="hi", options=options)
    assert c.ps().models[0].context_length == expected
    assert last_sim(sim)["num_ctx"] == expected
    shown = c.show("gemma2")
    assert shown.modelinfo["gemma.context_length"] == (profile.train_ctx or 32768)
    assert shown.parameters == (f"num_ctx {profile.num_ctx}" if profile.num_ctx else None)


def test_two_requests_over_the_training_context_share_one_load(simulator):
    sim, c = simulator(models={"gemma2": ModelProfile(train_ctx=16384)})
    for n in (65536, 40000, 16384):  # all run with 16384: Ollama compares the capped value
        c.generate(model="gemma2", prompt="hi", options={"num_ctx": n})
    assert sim.timeline()["counts"]["loads"] == {G2: 1}


def test_a_prompt_that_fits_reports_its_full_count(simulator):
    sim, c = simulator()
    system, prompt = "You answer briefly.", "Why is the sky blue? " * 10
    r = c.generate(model="gemma2", system=system, prompt=prompt, options=CTX)
    assert r.prompt_eval_count == 5 + 53  # ceil(19 / 4) + ceil(210 / 4)
    m = c.chat(model="gemma2", messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}])
    assert m.prompt_eval_count == (4 + 5) + (4 + 53)  # 4 template tokens per message
    edge = c.generate(model="gemma2", prompt=WORDS[:1020], options=CTX)  # 255 tokens: num_ctx - 1 fits
    assert edge.prompt_eval_count == 255
    assert last_sim(sim) | {"truncation": ""} == {
        "prompt_tokens": 255, "evaluated": 255, "num_ctx": 256, "truncated": False, "dropped_messages": 0,
        "discarded_tokens": 0, "n_keep": 0, "rejected": False, "truncation": ""}
    assert sim.timeline()["counts"]["truncated"] == {}


@pytest.mark.parametrize("stream", [False, True])
def test_llama_server_keeps_the_head_and_a_tail_of_about_half_the_window(simulator, stream):
    sim, c = simulator()
    r = c.generate(model="gemma2", prompt=WORDS, options=CTX, stream=stream)
    parts = list(r) if stream else [r]
    text, final = "".join(p.response for p in parts), parts[-1]
    assert final.done and final.prompt_eval_count == 131  # 256 - (256 - 5) // 2; answered with 200
    seen = WORDS[:20] + WORDS[-126 * 4:]  # 5 head tokens (num_keep 4 + BOS), 126 tail tokens
    logged = last_sim(sim)
    assert (logged["prompt_tokens"], logged["evaluated"], logged["truncated"]) == (256, 131, True)
    assert logged["seen"] == {"system": "", "prompt": seen}
    assert text == build_answer("generate", {"prompt": seen}).text  # the reply quotes what it saw
    assert "w0001" in text and "w0090" in text and "w0005" not in text
    assert sim.timeline()["counts"]["truncated"] == {G2: 1}


def test_the_go_runner_fills_the_window_exactly(simulator):
    sim, c = simulator(truncation="go-runner")
    assert c.generate(model="gemma2", prompt=WORDS, options=CTX).prompt_eval_count == 256  # T <= num_ctx: whole
    assert not last_sim(sim)["truncated"]
    longer = WORDS + "tail"
    assert c.generate(model="gemma2", prompt=longer, options=CTX).prompt_eval_count == 256
    assert last_sim(sim)["seen"]["prompt"] == longer[:20] + longer[-251 * 4:]
    answer = c.chat(model="gemma2", format=SCHEMA, options=CTX,
                    messages=[{"role": "user", "content": "List the skills: Python, SQL. " + longer}])
    assert answer.prompt_eval_count == 256
    jsonschema.validate(json.loads(answer.message.content), SCHEMA)  # a cut prompt still gets valid JSON


def test_the_error_runner_answers_400_like_ollama(simulator):
    sim, c = simulator(truncation="error")
    for stream in (False, True):
        with pytest.raises(ollama.ResponseError) as err:
            list(c.generate(model="gemma2", prompt=WORDS, options=CTX, stream=True)) if stream else \
                c.generate(model="gemma2", prompt=WORDS, options=CTX)
        assert (err.value.status_code, err.value.error) == (400, CONTEXT_ERROR)
    assert last_sim(sim)["rejected"] and last_sim(sim)["evaluated"] == 0
    assert c.generate(model="gemma2", prompt=WORDS[:1020], options=CTX).prompt_eval_count == 255
    counts = sim.timeline()["counts"]
    assert counts["context_rejected"] == {G2: 2} and counts["truncated"] == {}


def test_chat_history_is_dropped_from_the_front_keeping_system_and_last(simulator):
    sim, c = simulator()
    system = {"role": "system", "content": "You list skills."}  # 4 + 4 tokens
    first = {"role": "user", "content": "List the skills.\n" + "We need Python and SQL. " * 20}  # 4 + 125
    reply = {"role": "assistant", "content": "Kafka, Docker. " * 32}  # 4 + 120
    last = {"role": "user", "content": "Now check your list again."}  # 4 + 7
    messages = [system, first, reply, last]
    m = c.chat(model="gemma2", messages=messages, options=CTX)
    assert m.prompt_eval_count == 8 + 124 + 11  # the first user turn went; the rest fits whole
    logged = last_sim(sim)
    assert (logged["prompt_tokens"], logged["dropped_messages"], logged["discarded_tokens"]) == (272, 1, 0)
    assert logged["seen"] == {"messages": [system, reply, last]}
    assert m.message.content == build_answer("chat", {"messages": [system, reply, last]}).text
    assert m.message.content != build_answer("chat", {"messages": messages}).text
    huge = {"role": "user", "content": WORDS}
    m = c.chat(model="gemma2", messages=[system, first, huge], options=CTX)  # only system + last stay; cut
    logged = last_sim(sim)
    assert m.prompt_eval_count == 131 and logged["dropped_messages"] == 1 and logged["discarded_tokens"] > 0
    # the 5 head tokens: the system turn's 4 template tokens and its first 4 characters; then the tail
    assert logged["seen"]["messages"] == [{**system, "content": "You "}, {**huge, "content": WORDS[-126 * 4:]}]


def test_chars_per_token_makes_text_denser(simulator):
    sim, c = simulator(chars_per_token=2.0)
    r = c.generate(model="gemma2", prompt="x" * 1000, options={"num_ctx": 1024, "num_predict": 5})
    assert r.prompt_eval_count == 500 and not last_sim(sim)["truncated"]
    assert r.eval_count == 5 and len(r.response) == 10 and r.done_reason == "length"
    assert c.generate(model="gemma2", prompt="x" * 1000, options=CTX).prompt_eval_count == 131  # 4 chars would fit


def test_a_repull_changes_the_digest_and_reloads_the_resident_model(simulator):
    sim, c = simulator()
    old = model_digest(G2)
    c.generate(model="gemma2", prompt="hi")
    assert c.list().models[0].digest == old == c.ps().models[0].digest
    new = sim.repull("gemma2")
    assert new != old and c.list().models[0].digest == new
    assert c.list().models[0].modified_at.year >= 2026 and c.show("gemma2").modified_at.year >= 2026
    assert c.ps().models[0].digest == old  # the old weights stay resident until the next request
    c.generate(model="gemma2", prompt="hi again")
    assert c.ps().models[0].digest == new
    events = [(e["type"], e.get("reason")) for e in sim.timeline()["events"] if e["type"] != "inference"]
    assert events == [("load", None), ("unload", "reload"), ("load", None)]
    with httpx.Client(base_url=sim.url) as raw:
        again = raw.post("/sim/repull", json={"model": "gemma2", "revision": "v3"}).json()
        assert again == {"model": G2, "digest": model_digest(G2, "v3"), "revision": "v3"} and again["digest"] != new
        assert raw.post("/sim/repull", json={"model": "nosuch"}).status_code == 404
    assert c.list().models[0].digest == model_digest(G2, "v3")
    sim.reset()  # back to the configured version
    assert c.list().models[0].digest == old


@pytest.mark.parametrize("odd", ["\udcff", "\x00"])
def test_a_canned_answer_with_a_lone_surrogate_or_nul_arrives_as_that_character(simulator, odd):
    sim, c = simulator(answers={"posting 7": f"Role: Clerk{odd}\nSummary: ok"})
    expected = f"Role: Clerk{odd}\nSummary: ok"
    ask = [{"role": "user", "content": "Summarise posting 7."}]
    assert c.chat(model="gemma2", messages=ask).message.content == expected
    assert "".join(p.message.content for p in c.chat(model="gemma2", messages=ask, stream=True)) == expected
    assert c.generate(model="gemma2", prompt="Summarise posting 7.").response == expected
