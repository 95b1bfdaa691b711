"""Configuration of the Ollama SIMULATOR (a stand-in for tests, demos and benchmarks, not a model server).

Model names follow Ollama: ``gemma2`` means ``gemma2:latest``; both spellings address the same model.
A model's context window follows Ollama's rules (see ``SimulatorConfig.num_ctx_for`` and context.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

BANNER = "Ollama SIMULATOR (stand-in for tests, demos and benchmarks; not a model server)"
DEFAULT_TRAIN_CTX = 32768  # a model's training context (n_ctx_train) unless its profile sets one
TRUNCATION_MODES = ("llama-server", "go-runner", "error")  # how the runner treats a prompt that does not fit
FOREVER = float("inf")


def normalize_model_name(name: str) -> str:
    """``gemma2`` -> ``gemma2:latest``; ``Gemma3:4B`` -> ``gemma3:4b`` (Ollama names are case-insensitive)."""
    name = (name or "").strip().lower()
    if not name:
        return name
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_keep_alive(value: Any, default: float = 300.0) -> float:
    """Ollama ``keep_alive`` -> seconds: numbers are seconds, strings are Go durations ("5m", "1h30m", "0").

    Negative means forever (returned as ``FOREVER``); ``None`` means ``default``.
    """
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        sign = -1.0 if text.startswith("-") else 1.0
        body = text.lstrip("+-")
        try:
            seconds = sign * float(body)
        except ValueError:
            parts = _DURATION_PART.findall(body)
            if not parts or "".join(n + u for n, u in parts) != body:
                raise ValueError(f"invalid keep_alive duration {value!r}") from None
            seconds = sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise ValueError(f"invalid keep_alive {value!r}")  # noqa: TRY004 - the API answers 400 for it
    return FOREVER if seconds < 0 else seconds


@dataclass(frozen=True)
class ModelProfile:
    """Timing and size of one simulated model; ``None`` fields inherit ``SimulatorConfig.default_profile``."""

    load_seconds: float | None = None
    request_seconds: float | None = None  # fixed cost per request (prompt evaluation)
    token_seconds: float | None = None  # per output token
    size_bytes: int | None = None
    num_ctx: int | None = None  # the Modelfile's PARAMETER num_ctx; None: the server's default applies
    train_ctx: int | None = None  # training context (n_ctx_train): no model runs with more; None: 32768
    revision: str | None = None  # the pulled version: part of the digest (SimulatorHandle.repull changes it)

    def resolved(self, default: ModelProfile, name: str = "") -> ModelProfile:
        merged = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in merged.items():
            if value is None:
                merged[key] = getattr(default, key)
        merged["load_seconds"] = float(merged["load_seconds"] or 0.0)
        merged["request_seconds"] = float(merged["request_seconds"] or 0.0)
        merged["token_seconds"] = float(merged["token_seconds"] or 0.0)
        merged["num_ctx"] = int(merged["num_ctx"]) if merged["num_ctx"] else None
        merged["train_ctx"] = int(merged["train_ctx"] or DEFAULT_TRAIN_CTX)
        merged["revision"] = str(merged["revision"] or "")
        if merged["size_bytes"] is None:
            merged["size_bytes"] = guess_size_bytes(name)
        return ModelProfile(**merged)


@dataclass(frozen=True)
class FaultConfig:
    """Injected faults; rates are probabilities per generate/chat request drawn from ``random.Random(seed)``.

    ``die_after=N``: after N more generate/chat requests the simulated server "crashes": it stops listening
    and aborts every open connection (until ``reset()``). ``bad_answer_rate`` (an extension) answers with
    invalid output (broken JSON / empty text), except to a retry that complains about a previous answer.
    """

    error_500_rate: float = 0.0
    error_503_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_rate: float = 0.0
    die_after: int | None = None
    seed: int = 0
    bad_answer_rate: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_MODEL_NAMES = ("gemma3:4b", "gemma2", "qwen2.5", "llama3.2")


def _default_models() -> dict[str, ModelProfile]:
    return {name: ModelProfile() for name in DEFAULT_MODEL_NAMES}


@dataclass
class SimulatorConfig:
    """Everything the SIMULATOR does; the Ollama environment variable each field mirrors is noted."""

    models: dict[str, ModelProfile] = field(default_factory=_default_models)
    default_profile: ModelProfile = field(
        default_factory=lambda: ModelProfile(load_seconds=0.05, request_seconds=0.01, token_seconds=0.0)
    )
    parallel: int = 4  # OLLAMA_NUM_PARALLEL: inference slots per loaded model
    max_loaded_models: int = 1  # OLLAMA_MAX_LOADED_MODELS (<= 0: unlimited)
    max_queue: int = 512  # OLLAMA_MAX_QUEUE: requests waiting for a slot beyond this get 503
    default_keep_alive: str | float = "5m"  # OLLAMA_KEEP_ALIVE
    faults: FaultConfig = field(default_factory=FaultConfig)
    # canned answers (an extension, for tests that plant outputs): a request whose text contains the
    # key answers the value verbatim, the first key in order that matches; format is then not enforced
    answers: dict[str, str] = field(default_factory=dict)
    vram_gib: float = 8.0  # total VRAM: picks the default context when context_length is None
    context_length: int | None = None  # OLLAMA_CONTEXT_LENGTH (Ollama < 0.30 defaulted to 2048)
    chars_per_token: float = 4.0  # the simulated tokenizer: a text of n characters is ceil(n / this) tokens
    truncation: str = "llama-server"  # the runner: one of TRUNCATION_MODES (see context.py)

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {', '.join(TRUNCATION_MODES)}, not {self.truncation!r}")
        if not self.chars_per_token > 0:
            raise ValueError(f"chars_per_token must be > 0, not {self.chars_per_token!r}")
        if self.context_length is not None and self.context_length < 1:
            raise ValueError(f"context_length must be >= 1, not {self.context_length!r}")

    def default_num_ctx(self) -> int:
        """The server's default context: OLLAMA_CONTEXT_LENGTH, else by total VRAM (Ollama >= 0.30)."""
        if self.context_length:
            return int(self.context_length)
        # Ollama's thresholds are 47/23 GiB, a little under 48/24, for what the GPU reports after overhead
        return 262144 if self.vram_gib >= 47 else 32768 if self.vram_gib >= 23 else 4096

    def num_ctx_for(self, profile: ModelProfile, requested: int | None) -> int:
        """The context a model runs with: options.num_ctx, else the Modelfile's, else the server default;
        capped at the training context (Ollama logs "requested context size too large for model")."""
        return min(requested or profile.num_ctx or self.default_num_ctx(), profile.train_ctx or DEFAULT_TRAIN_CTX)

    def catalog(self) -> dict[str, ModelProfile]:
        """Full model name -> resolved profile."""
        return {
            normalize_model_name(name): (profile or ModelProfile()).resolved(
                self.default_profile, normalize_model_name(name)
            )
            for name, profile in self.models.items()
        }

def guess_size_bytes(name: str) -> int:
    """A plausible on-disk size from the parameter count in the tag (``4b`` -> ~3.3 GB)."""
    match = re.search(r"(\d+(?:\.\d+)?)b\b", name.split(":", 1)[-1]) or re.search(r"(\d+(?:\.\d+)?)b\b", name)
    billions = float(match.group(1)) if match else 7.0
    return int(billions * 0.62e9 + 0.8e9)


def model_digest(name: str, revision: str = "") -> str:
    """The digest /api/tags and /api/ps report; a new revision (a new pull) gives a new digest."""
    key = f"turing-simulator:{name}" + (f"@{revision}" if revision else "")  # revision "" keeps the old digests
    return hashlib.sha256(key.encode()).hexdigest()


def model_details(name: str) -> dict[str, Any]:
    base = name.split(":", 1)[0].rsplit("/", 1)[-1]
    family = re.sub(r"[\d.]+$", "", base) or base
    tag = name.split(":", 1)[1] if ":" in name else "latest"
    size = re.search(r"(\d+(?:\.\d+)?)b", tag)
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": f"{size.group(1)}B" if size else "7B",
        "quantization_level": "Q4_K_M",
    }
