"""``turing simulate-ollama``: serve the Ollama SIMULATOR in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import signal
import sys

import click

from .config import BANNER, TRUNCATION_MODES, FaultConfig, ModelProfile, SimulatorConfig, parse_keep_alive


def build_config(models: str | None, load_seconds: float, request_seconds: float, token_seconds: float,
                 parallel: int, max_loaded_models: int, max_queue: int, keep_alive: str,
                 faults: FaultConfig, **context: object) -> SimulatorConfig:
    """``context``: the SimulatorConfig fields of the context window (vram_gib, context_length, ...)."""
    default = ModelProfile(load_seconds=load_seconds, request_seconds=request_seconds, token_seconds=token_seconds)
    config = SimulatorConfig(default_profile=default, parallel=parallel, max_loaded_models=max_loaded_models,
                             max_queue=max_queue, default_keep_alive=keep_alive, faults=faults, **context)
    if models:
        names = [m.strip() for m in models.split(",") if m.strip()]
        if not names:
            raise click.BadParameter("give at least one model name", param_hint="--models")
        config.models = {name: ModelProfile() for name in names}
    return config


async def _serve(config: SimulatorConfig, host: str, port: int) -> None:
    # the server (aiohttp) only when serving: `turing --help` should not pay for it
    from .server import SimulatorServer
    from .state import Simulator

    server = SimulatorServer(Simulator(config), host, port)
    try:
        await server.start()
    except BaseException:
        await server.runner.cleanup()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread / Windows
            pass
    click.echo(f"{BANNER} listening on http://{host}:{server.port}")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()


@click.command("simulate-ollama")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=11434, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind (0 picks a free one).")
@click.option("--models", default=None,
              help="Comma-separated model names to serve [default: gemma3:4b,gemma2,qwen2.5,llama3.2].")
@click.option("--load-seconds", default=0.05, show_default=True, type=click.FloatRange(min=0),
              help="Simulated time to load a model.")
@click.option("--request-seconds", default=0.01, show_default=True, type=click.FloatRange(min=0),
              help="Simulated fixed time per request (prompt evaluation).")
@click.option("--token-seconds", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Simulated time per output token.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(min=1),
              help="Inference slots per loaded model (OLLAMA_NUM_PARALLEL).")
@click.option("--max-loaded-models", default=1, show_default=True, type=click.IntRange(min=0),
              help="Models resident at once; 0 = unlimited (OLLAMA_MAX_LOADED_MODELS).")
@click.option("--max-queue", default=512, show_default=True, type=click.IntRange(min=1),
              help="Waiting requests beyond this get 503 (OLLAMA_MAX_QUEUE).")
@click.option("--keep-alive", default="5m", show_default=True,
              help="Default keep_alive: a duration (5m, 30s, 1h), seconds, or negative for forever.")
@click.option("--fault-500-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of generate/chat requests answered with HTTP 500.")
@click.option("--fault-503-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of generate/chat requests answered with HTTP 503.")
@click.option("--hang-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests that sleep --hang-seconds before answering.")
@click.option("--hang-seconds", default=30.0, show_default=True, type=click.FloatRange(min=0),
              help="How long a hanging request sleeps (make it longer than the client's timeout).")
@click.option("--drop-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests whose connection is closed mid-response.")
@click.option("--die-after", default=None, type=click.IntRange(min=0),
              help="Simulate a crash: after N generate/chat requests stop listening and drop connections.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the fault RNG.")
@click.option("--vram-gib", default=8.0, show_default=True, type=click.FloatRange(min=0),
              help="Total VRAM: the default context is 4096 tokens below 23 GiB, 32768 below 47, else 262144.")
@click.option("--context-length", default=None, type=click.IntRange(min=1),
              help="Default context in tokens, instead of the VRAM's (OLLAMA_CONTEXT_LENGTH).")
@click.option("--truncation", default="llama-server", show_default=True, type=click.Choice(TRUNCATION_MODES),
              help="A prompt over the context: cut as llama-server (Ollama >= 0.30) or the Go runner (0.4-0.29) "
                   "does, or refused with 400 (llama-server without context shift).")
@click.option("--chars-per-token", default=4.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="The simulated tokenizer: a text of n characters is ceil(n / this) tokens.")
def simulate_ollama(host: str, port: int, models: str | None, load_seconds: float, request_seconds: float,
                    token_seconds: float, parallel: int, max_loaded_models: int, max_queue: int, keep_alive: str,
                    fault_500_rate: float, fault_503_rate: float, hang_rate: float, hang_seconds: float,
                    drop_rate: float, die_after: int | None, seed: int, vram_gib: float,
                    context_length: int | None, truncation: str, chars_per_token: float) -> None:
    """Run the Ollama SIMULATOR: an Ollama-compatible HTTP server for tests, demos and benchmarks.

    It is not a model server: it answers deterministically with canned, plausible text and simulates
    model loading, parallel slots, keep_alive residency, the context window and injected faults.
    Serves until SIGINT/SIGTERM.

    A stand-in for the GPU server: its context rules follow Ollama's, but its tokens are counted from characters.
    """
    try:
        parse_keep_alive(keep_alive)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--keep-alive") from None
    faults = FaultConfig(error_500_rate=fault_500_rate, error_503_rate=fault_503_rate, hang_rate=hang_rate,
                         hang_seconds=hang_seconds, drop_rate=drop_rate, die_after=die_after, seed=seed)
    config = build_config(models, load_seconds, request_seconds, token_seconds, parallel, max_loaded_models,
                          max_queue, keep_alive, faults, vram_gib=vram_gib, context_length=context_length,
                          truncation=truncation, chars_per_token=chars_per_token)
    try:
        asyncio.run(_serve(config, host, port))
    except OSError as exc:
        reason = "port already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        click.echo(f"Error: cannot listen on {host}:{port}: {reason}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:  # pragma: no cover - signal arrived before the handlers were installed
        pass


if __name__ == "__main__":  # pragma: no cover
    simulate_ollama()
