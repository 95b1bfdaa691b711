"""Ollama SIMULATOR: an Ollama-compatible HTTP server that stands in for the GPU server in tests, the demo
and benchmarks. It runs no model: answers are deterministic canned text; load and inference times,
parallel slots, residency (max loaded models, keep_alive) and faults are simulated. The context window
follows Ollama's rules (default by VRAM, training cap, history dropped and prompts cut or refused, see
context.py); /sim/requests says per request what the model saw (``_sim``); ``repull`` brings a new digest.

    with start_simulator(SimulatorConfig(parallel=2), port=0) as sim:
        ollama.Client(host=sim.url).generate(model="gemma2", prompt="...")
        sim.timeline()["counts"]   # loads, requests, truncated ... per model
        sim.requests()[-1]["_sim"]  # prompt_tokens, evaluated, num_ctx, truncated, dropped_messages ...

The server (aiohttp) is imported on first use of `start_simulator` / `SimulatorHandle`: every `turing`
command registers `simulate-ollama`, and none of the others should pay for aiohttp (~0.3 s).
"""

from typing import Any

from .config import BANNER, FaultConfig, ModelProfile, SimulatorConfig, normalize_model_name, parse_keep_alive

__all__ = [
    "BANNER",
    "FaultConfig",
    "ModelProfile",
    "SimulatorConfig",
    "SimulatorHandle",
    "normalize_model_name",
    "parse_keep_alive",
    "start_simulator",
]


def __getattr__(name: str) -> Any:
    if name in ("SimulatorHandle", "start_simulator"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
