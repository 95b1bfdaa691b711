"""Where Turing finds its state, workflows and Ollama; environment first, embedded defaults second."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def state_dir() -> Path:
    """Folder for the embedded SQLite store (ignored by git)."""
    return Path(os.environ.get("TURING_STATE_DIR") or PROJECT_ROOT / ".turing")


DATABASE_URL_VAR = "TURING_DATABASE_URL"


def database_url_is_set() -> bool:
    """Whether TURING_DATABASE_URL names the store (else the embedded SQLite file)."""
    return bool(os.environ.get(DATABASE_URL_VAR))


def database_url() -> str:
    """SQLAlchemy URL of Turing's own tables."""
    url = os.environ.get(DATABASE_URL_VAR)
    if url:
        return url
    return f"sqlite:///{state_dir() / 'turing.db'}"


def workflows_dir() -> Path:
    return Path(os.environ.get("TURING_WORKFLOWS_DIR") or PROJECT_ROOT / "workflow_defs")


class HostConfigError(ValueError):
    """An Ollama host setting that cannot be used; the message is one line naming it."""


_HOST = re.compile(r"^(https?)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?(/[^\s,]*)?$")


def normalize_host(host: str, source: str = "host") -> str:
    """`host:port` or `http://host:port` -> `http://host:port`, as the ollama client reads OLLAMA_HOST.

    Raises HostConfigError (one line naming `source` and the entry) for anything else.
    """
    text = host.strip().rstrip("/")
    full = text if "://" in text else f"http://{text}"
    match = _HOST.match(full)
    if not text or not match or (match.group(3) and not 0 < int(match.group(3)) < 65536):
        shown = re.sub(r"//[^/@]*@", "//***@", host.strip())  # never print a password in a URL
        raise HostConfigError(f"{source}: {shown!r} is not an Ollama host (expected http://HOST:PORT)")
    scheme, name, port, path = match.group(1), match.group(2), match.group(3) or "11434", match.group(4) or ""
    return f"{scheme}://{name}:{port}{path}"


def ollama_host_problem() -> str | None:
    """Why OLLAMA_HOST cannot be used (it is one host, as Ollama's own tools read it), or None.

    Checked before `import ollama`: the official client parses it at import time and a comma list
    there is a traceback (`Port could not be cast to integer value`).
    """
    raw = os.environ.get("OLLAMA_HOST", "").strip()
    if not raw:
        return None
    if "," in raw:
        return (f"OLLAMA_HOST holds one host, as Ollama's tools read it; got the list {raw!r}: "
                "give several hosts in TURING_OLLAMA_HOSTS instead")
    try:
        normalize_host(raw, "OLLAMA_HOST")
    except HostConfigError as exc:
        return str(exc)
    return None


def ollama_hosts(value: str | list[str] | None = None) -> list[str]:
    """The Ollama hosts, normalised and without duplicates: `value` (the resource's config), else the
    TURING_OLLAMA_HOSTS comma list, else OLLAMA_HOST (one host), else the default."""
    if value is not None and (value if isinstance(value, str) else "".join(value)).strip():
        source, entries = "Ollama hosts in the resource config", value.split(",") if isinstance(value, str) else value
    elif os.environ.get("TURING_OLLAMA_HOSTS", "").strip():
        source, entries = "TURING_OLLAMA_HOSTS", os.environ["TURING_OLLAMA_HOSTS"].split(",")
    elif os.environ.get("OLLAMA_HOST", "").strip():
        problem = ollama_host_problem()
        if problem:
            raise HostConfigError(problem)
        source, entries = "OLLAMA_HOST", [os.environ["OLLAMA_HOST"]]
    else:
        return [DEFAULT_OLLAMA_HOST]
    hosts: list[str] = []
    for entry in entries:
        if not entry.strip():
            raise HostConfigError(f"{source}: an empty entry in {','.join(entries)!r}")
        host = normalize_host(entry, source)
        if host not in hosts:
            hosts.append(host)
    return hosts


def ollama_residency() -> str:
    """TURING_OLLAMA_RESIDENCY: "shared" (default) or "exclusive" (see OllamaModels.residency)."""
    value = os.environ.get("TURING_OLLAMA_RESIDENCY", "").strip().lower() or "shared"
    if value not in ("shared", "exclusive"):
        raise HostConfigError(f"TURING_OLLAMA_RESIDENCY must be 'shared' or 'exclusive', not {value!r}")
    return value


# OllamaModels deadline fields settable from the environment, for `turing run` and the demo
TIMEOUT_VARS = {
    "TURING_OLLAMA_CONNECT_TIMEOUT": "connect_timeout_seconds",
    "TURING_OLLAMA_CONTROL_TIMEOUT": "control_timeout_seconds",
    "TURING_OLLAMA_LOAD_TIMEOUT": "load_timeout_seconds",
    "TURING_OLLAMA_REQUEST_TIMEOUT": "request_timeout_seconds",
}


def ollama_timeouts() -> dict[str, float]:
    """The deadlines set in the environment, as OllamaModels fields (seconds, > 0)."""
    found: dict[str, float] = {}
    for var, field in TIMEOUT_VARS.items():
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value <= 0:
            raise HostConfigError(f"{var} must be a number of seconds above 0, not {raw!r}")
        found[field] = value
    return found


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


def workflow_hosts_var(workflow_name: str) -> str:
    """The environment variable that points one workflow at its own Ollama hosts."""
    return "TURING_OLLAMA_HOSTS_" + re.sub(r"[^A-Z0-9]", "_", workflow_name.upper())


def workflow_hosts(workflow_name: str, configured: str | list[str] | None = None) -> list[str]:
    """The Ollama hosts a workflow's steps use, whatever launched the run: its own
    TURING_OLLAMA_HOSTS_<WORKFLOW>, else `configured` (the resource's config), else TURING_OLLAMA_HOSTS, else
    OLLAMA_HOST, else the default."""
    own = os.environ.get(workflow_hosts_var(workflow_name), "").strip()
    if own:
        hosts: list[str] = []
        for entry in own.split(","):
            if not entry.strip():
                raise HostConfigError(f"{workflow_hosts_var(workflow_name)}: an empty entry in {own!r}")
            host = normalize_host(entry, workflow_hosts_var(workflow_name))
            if host not in hosts:
                hosts.append(host)
        return hosts
    return ollama_hosts(configured)


def raw_hosts(workflow_name: str) -> str:
    """The host setting a workflow's runs read, as written (for messages about a malformed one)."""
    for var in (workflow_hosts_var(workflow_name), "TURING_OLLAMA_HOSTS", "OLLAMA_HOST"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return DEFAULT_OLLAMA_HOST


def workspace_file() -> Path:
    """The project's workspace.yaml (what `dagster dev -w` loads)."""
    return PROJECT_ROOT / "workspace.yaml"
