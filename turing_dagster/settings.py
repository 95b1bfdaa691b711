"""Where Turing finds its state, workflows and Ollama; environment first, embedded defaults second."""

from __future__ import annotations

import functools
import math
import os
import re
import shlex
import shutil
import sys
import threading
from collections.abc import Callable
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


class SettingsError(ValueError):
    """A setting from the environment that cannot be used; the message is one line naming it."""


class HostConfigError(SettingsError):
    """An Ollama host setting that cannot be used; the message is one line naming it."""


def env_number(var: str, *, whole: bool = False, minimum: float = 0, above: bool = False,
               seconds: bool = False) -> float | None:
    """The number in environment variable `var` (an int when `whole`), None when unset or blank.

    SettingsError, one line naming the variable and the range, for anything else: a chunk size of
    0 used to end in a `range()` traceback deep in a run, and -1 in a run that silently did nothing.
    """
    raw = os.environ.get(var, "").strip()
    if not raw:
        return None
    try:
        value: float = int(raw) if whole else float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or (above and value == minimum):
        kind = ("a whole number" if whole else "a number") + (" of seconds" if seconds else "")
        raise SettingsError(f"{var} must be {kind} {'>' if above else '>='} {minimum:g}, not {raw!r}")
    return value


_IMPORT_LOCK = threading.Lock()


def _client_host_rule() -> Callable[[str | None], str]:
    """The official client's own OLLAMA_HOST rule (`ollama._client._parse_host`), imported on first use.

    Not at module import: the CLI's fast commands stay without the client. The client parses
    OLLAMA_HOST when it is imported and a bad value raises there; it is then imported without the
    value (we never use its default client), and the value is reported where hosts are resolved.
    """
    with _IMPORT_LOCK:
        if "ollama" not in sys.modules:
            try:
                import ollama  # noqa: F401
            except ValueError:
                saved = os.environ.pop("OLLAMA_HOST", None)
                try:
                    import ollama  # noqa: F401, F811
                finally:
                    if saved is not None:
                        os.environ["OLLAMA_HOST"] = saved
    from ollama._client import _parse_host

    return _parse_host


def _masked(text: str) -> str:
    return re.sub(r"^((?:[^/@]*//)?)[^/@]*@", r"\1***@", text)  # never print a password in a URL


@functools.lru_cache(maxsize=256)
def _parse_host(text: str) -> str:
    """What the client makes of `text`; ValueError (why) for what it rejects or could never reach."""
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() not in ("http", "https"):
        raise ValueError("the scheme must be http or https")
    if sep and not rest:
        raise ValueError(f"no host after {scheme}://")
    if any(c.isspace() for c in text) or "," in text:
        raise ValueError("one host, without spaces or commas")
    if "@" in (rest if sep else text).split("/", 1)[0]:
        raise ValueError("the ollama client drops credentials in a host URL")
    return _client_host_rule()(text)


def normalize_host(host: str, source: str = "host") -> str:
    """A host as the official ollama client reads OLLAMA_HOST, by its own rule: `host` -> port 11434,
    `http://host` -> 80, `https://host` -> 443, a path kept (`http://host:1/path`).

    Raises HostConfigError (one line naming `source` and the entry) for anything it rejects or that
    could never reach a server (another scheme, spaces, credentials).
    """
    text = host.strip()
    try:
        if not text:
            raise ValueError("empty")
        return _parse_host(text)
    except ValueError as exc:
        raise HostConfigError(
            f"{source}: {_masked(text)!r} is not an Ollama host ({exc}; expected [http[s]://]HOST[:PORT][/PATH])"
        ) from None


def ollama_host_problem() -> str | None:
    """Why OLLAMA_HOST cannot be used (it is one host, as Ollama's own tools read it), or None.

    Checked before `import ollama` (turing_dagster/ollama/): the official client parses it at import
    time and a comma list there is a traceback (`Port could not be cast to integer value`).
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
        raise SettingsError(f"TURING_OLLAMA_RESIDENCY must be 'shared' or 'exclusive', not {value!r}")
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
        value = env_number(var, minimum=0, above=True, seconds=True)
        if value is not None:
            found[field] = value
    return found


DEFAULT_CHUNK_SIZE = 35


def chunk_size() -> int:
    """Postings per committed chunk within a step (TURING_CHUNK_SIZE, >= 1)."""
    value = env_number("TURING_CHUNK_SIZE", whole=True, minimum=1)
    return DEFAULT_CHUNK_SIZE if value is None else int(value)


DEFAULT_SENSOR_INTERVAL_SECONDS = 30


def sensor_interval_seconds() -> int:
    """Seconds between ticks of the new-postings sensors (TURING_SENSOR_INTERVAL_SECONDS, >= 1)."""
    value = env_number("TURING_SENSOR_INTERVAL_SECONDS", whole=True, minimum=1, seconds=True)
    return DEFAULT_SENSOR_INTERVAL_SECONDS if value is None else int(value)


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
    if not home.is_absolute():  # Dagster's rule; said before anything is written into a relative folder
        raise DagsterHomeError(f"DAGSTER_HOME={home}: must be an absolute path, e.g. DAGSTER_HOME=$PWD/{home}")
    template = PROJECT_ROOT / "dagster.yaml"
    if home.is_dir() and not (home / "dagster.yaml").exists() and template.exists():
        try:
            shutil.copy(template, home / "dagster.yaml")  # the project's settings, not Dagster's defaults
        except OSError as exc:
            raise DagsterHomeError(f"DAGSTER_HOME={home}: cannot write its dagster.yaml ({exc.strerror}); "
                                   "it must be a folder this user can write") from exc
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


def host_setting(host: str) -> str:
    """The variable that names `host` (a normalised URL): a workflow's own TURING_OLLAMA_HOSTS_<WORKFLOW>, else
    TURING_OLLAMA_HOSTS, else OLLAMA_HOST, which is also the answer when none names it."""
    own = sorted(k for k in os.environ if k.startswith("TURING_OLLAMA_HOSTS_"))
    for var in (*own, "TURING_OLLAMA_HOSTS"):
        for entry in os.environ.get(var, "").split(","):
            try:
                if entry.strip() and normalize_host(entry, var) == host:
                    return var
            except HostConfigError:
                continue
    return "OLLAMA_HOST"


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


def ui_command(home: str | Path | None = None) -> str:
    """The shell command that opens the Dagster UI on this instance, pasteable into a fresh shell."""
    home = home or dagster_home()
    return f"DAGSTER_HOME={shlex.quote(str(home))} dagster dev -w {shlex.quote(str(workspace_file()))}"


def sensors_running() -> bool:
    """TURING_SENSORS_RUNNING: the `<workflow>_new_postings` sensors start running, no click in the UI."""
    return os.environ.get("TURING_SENSORS_RUNNING", "").strip().lower() in {"1", "true", "yes"}
