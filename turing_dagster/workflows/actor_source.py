"""The source of a Python actor's module as it is on disk, for its step's code version."""

from __future__ import annotations

import hashlib
import importlib.util


def actor_source_digest(module: str) -> str | None:
    """A hash of the module's source file, read without importing the module itself.

    find_spec imports only the parent packages. None when the module cannot be found or has no
    file: the code version then holds the actor's path alone.
    """
    try:
        found = importlib.util.find_spec(module)
        origin = found.origin if found is not None and found.has_location else None
        if not origin:
            return None
        with open(origin, "rb") as source:
            return hashlib.sha256(source.read()).hexdigest()[:16]
    except (ImportError, ValueError, OSError):
        return None
