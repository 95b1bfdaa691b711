"""Where Turing finds its state, workflows and Ollama; environment first, embedded defaults second."""

from __future__ import annotations

import os
import shutil
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


DEFAULT_CHUNK_SIZE = 35


def chunk_size() -> int:
    """Postings per committed chunk within a step (TURING_CHUNK_SIZE)."""
    return int(os.environ.get("TURING_CHUNK_SIZE") or DEFAULT_CHUNK_SIZE)


class DagsterHomeError(Exception):
    """DAGSTER_HOME cannot hold an instance (missing, relative, or a broken dagster.yaml)."""


def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to the project's own folder (never a throwaway instance), with the
    project's dagster.yaml copied in when the folder has none."""
    if not os.environ.get("DAGSTER_HOME"):
        home = PROJECT_ROOT / ".dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)
    home = Path(os.environ["DAGSTER_HOME"])
    template = PROJECT_ROOT / "dagster.yaml"
    if home.is_dir() and not (home / "dagster.yaml").exists() and template.exists():
        shutil.copy(template, home / "dagster.yaml")  # the project's settings, not Dagster's defaults
    return home
