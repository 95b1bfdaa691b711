"""The SIMULATOR's context window rules, without a server: defaults, the cap, and where a prompt is cut."""

from __future__ import annotations

import pytest

from turing_dagster.simulator import ModelProfile, SimulatorConfig
from turing_dagster.simulator.context import ContextTooLong, fit_prompt, history_start, runner_cut


@pytest.mark.parametrize(("vram", "context_length", "expected"), [
    (8.0, None, 4096), (22.9, None, 4096), (23.0, None, 32768), (46.9, None, 32768), (47.0, None, 262144),
    (80.0, 2048, 2048),  # OLLAMA_CONTEXT_LENGTH wins over the VRAM tier
])
def test_the_server_default_context_follows_vram_unless_set(vram, context_length, expected):
    assert SimulatorConfig(vram_gib=vram, context_length=context_length).default_num_ctx() == expected


def test_the_request_beats_the_modelfile_which_beats_the_default_all_capped_at_training():
    config = SimulatorConfig(vram_gib=48.0)
    plain = ModelProfile().resolved(config.default_profile)
    tuned = ModelProfile(num_ctx=12288, train_ctx=16384).resolved(config.default_profile)
    assert (plain.num_ctx, plain.train_ctx, plain.revision) == (None, 32768, "")
    assert config.num_ctx_for(plain, None) == 32768  # 262144 by VRAM, capped at the training context
    assert config.num_ctx_for(tuned, None) == 12288
    assert config.num_ctx_for(tuned, 8192) == 8192
    assert config.num_ctx_for(tuned, 65536) == 16384


def test_bad_context_settings_are_refused():
    for kwargs in ({"truncation": "shift"}, {"chars_per_token": 0}, {"context_length": 0}):
        with pytest.raises(ValueError):
            SimulatorConfig(**kwargs)


def test_the_llama_server_runner_matches_ollamas_own_test_numbers():
    # llm/llama_server_test.go: num_ctx 4096, num_keep 4 (+ BOS), 5000 tokens -> 2051 kept, tail from token 2954
    length, keep = runner_cut(5000, 4096, 4, "llama-server")
    assert (length, keep) == (2051, 5) and keep + (5000 - length) == 2954
    assert runner_cut(4095, 4096, 4, "llama-server") is None  # one token of room is left whole
    assert runner_cut(4096, 4096, 4, "llama-server") == (2051, 5)
    assert runner_cut(4096, 4096, 4, "go-runner") is None
    assert runner_cut(4097, 4096, 4, "go-runner") == (4096, 5)
    assert runner_cut(5000, 4096, -1, "llama-server") == (4095, 4095)  # num_keep -1: keep all it can
    with pytest.raises(ContextTooLong):
        runner_cut(4096, 4096, 4, "error")


def test_history_drops_from_the_front_but_keeps_earlier_system_messages_and_the_last():
    roles = ["system", "user", "assistant", "system", "user", "assistant", "user"]
    messages = [{"role": r} for r in roles]
    sizes = [10, 50, 50, 10, 50, 50, 200]
    assert history_start(messages, sizes, 420) == 0
    assert history_start(messages, sizes, 370) == 1 + 1  # the first user turn goes
    assert history_start(messages, sizes, 320) == 3
    assert history_start(messages, sizes, 300) == 5  # both system messages stay in: 10 + 10 + 50 + 200
    assert history_start(messages, sizes, 100) == 6  # only the last, whatever its size
    tool = [{"role": "user"}, {"role": "assistant", "tool_calls": [{}]}, {"role": "tool"}, {"role": "user"}]
    assert history_start(tool, [100, 10, 10, 10], 30) == 1
    assert history_start(tool, [100, 10, 10, 10], 25) == 3  # the tool reply would fit, but not without its call


def test_a_cut_generate_prompt_keeps_the_head_and_the_tail():
    prompt = "".join(f"w{i:04d} " for i in range(200))[:1024]  # 256 tokens at 4 characters each
    fit = fit_prompt("generate", {"prompt": prompt}, 256, "llama-server", 4.0)
    assert (fit.prompt_tokens, fit.evaluated, fit.n_keep, fit.discarded_tokens) == (256, 131, 5, 125)
    assert fit.body["prompt"] == prompt[:20] + prompt[-126 * 4:]
    whole = fit_prompt("generate", {"prompt": prompt[:1020]}, 256, "llama-server", 4.0)
    assert not whole.truncated and whole.evaluated == 255 and whole.body["prompt"] == prompt[:1020]
