"""Ollama SIMULATOR: an Ollama-compatible HTTP server that stands in for the GPU server in tests, the demo
and benchmarks. It runs no model: answers are deterministic canned text; load and inference times,
parallel slots, residency (max loaded models, keep_alive) and faults are simulated.

    with start_simulator(SimulatorConfig(parallel=2), port=0) as sim:
        ollama.Client(host=sim.url).generate(model="gemma2", prompt="...")
        sim.timeline()["counts"]
"""

from .config import BANNER, FaultConfig, ModelProfile, SimulatorConfig, normalize_model_name, parse_keep_alive
from .server import SimulatorHandle, start_simulator

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
