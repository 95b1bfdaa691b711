"""Request keys: an answer is identified by what was asked, not by which definition asked it.

The key is a hash of what determines the answer: the model as the server identifies it (its normalised
name and digest, so `ollama pull` of a new version gives new keys), the messages (system text and the
chat so far), `format`, and every option the workflow sets. `keep_alive` is not an option and is left
out; so is a `num_ctx` Turing filled in from the server, since a prompt that does not fit is never
answered (ollama/context.py) and the context size does not change the answer to one that does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from turing_dagster.ollama.calls import normalize_model


def request_key(model: str, digest: str | None, messages: list[dict], fmt: Any, options: dict | None) -> str:
    material = {
        "model": normalize_model(model),
        "digest": digest or "",
        "messages": [{"role": m.get("role"), "content": m.get("content")} for m in messages],
        "format": fmt,
        "options": {k: v for k, v in sorted((options or {}).items()) if k != "keep_alive"},
    }
    # ensure_ascii: a lone surrogate in a prompt hashes like any other character
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
