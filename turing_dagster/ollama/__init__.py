"""Turing's Ollama client layer: calls, retries, a host pool and per-step model sessions. No Dagster here."""

import os as _os
import sys as _sys

from turing_dagster import settings as _settings

# The official client parses OLLAMA_HOST when it is imported; a comma list there is a traceback
# before any of our code runs. Import it without the bad value (we never use its default client)
# and report the value as one line where hosts are resolved (settings.ollama_hosts, cli.main).
if _settings.ollama_host_problem() and "ollama" not in _sys.modules:
    _saved = _os.environ.pop("OLLAMA_HOST")
    try:
        import ollama as _ollama  # noqa: F401
    finally:
        _os.environ["OLLAMA_HOST"] = _saved
