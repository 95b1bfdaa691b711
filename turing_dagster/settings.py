"""Where Turing finds its state, workflows and Ollama; environment first, embedded defaults second."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def state_dir() -> Path:
    """Folder for the embedded SQLite store (ignored by git)."""
    return Path(os.environ.get("TURING_STATE_DIR") or PROJECT_ROOT / ".turing")


def database_url() -> str:
    """SQLAlchemy URL of Turing's own tables."""
    url = os.environ.get("TURING_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{state_dir() / 'turing.db'}"


def workflows_dir() -> Path:
    return Path(os.environ.get("TURING_WORKFLOWS_DIR") or PROJECT_ROOT / "workflow_defs")


def normalize_host(host: str) -> str:
    """`host:port` or `http://host:port` -> `http://host:port`, as the ollama client reads OLLAMA_HOST."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    scheme, _, rest = host.partition("://")
    if ":" not in rest.split("/")[0]:
        rest = f"{rest}:11434"
    return f"{scheme}://{rest}"


def ollama_hosts(value: str | None = None) -> list[str]:
    """The comma-separated OLLAMA_HOST list, normalised."""
    raw = value if value is not None else os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST
    hosts = [normalize_host(h) for h in raw.split(",") if h.strip()]
    return hosts or [DEFAULT_OLLAMA_HOST]
