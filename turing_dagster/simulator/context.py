"""The context window of the Ollama SIMULATOR: how real Ollama fits a prompt into ``num_ctx`` tokens.

Tokens (the simulated tokenizer): a text of n characters is ``ceil(n / chars_per_token)`` tokens; a chat
message adds ``TEMPLATE_TOKENS`` for its turn markers in the chat template (its role header); a generate
request is system + prompt, no template.

A prompt that does not fit is cut, in Ollama's order, and still answered (HTTP 200):

1. chat history (server/prompt.go): messages are dropped from the front, always keeping the system messages
   before the kept part and the last message (a tool reply keeps the assistant turn that called the tool),
   until the rendered prompt has <= num_ctx tokens or only the last message remains;
2. the runner, when the remaining prompt of T tokens still does not fit (``SimulatorConfig.truncation``):
   - "llama-server" (Ollama >= 0.30): whole if T <= num_ctx - 1; otherwise it keeps the first n_keep tokens
     (options.num_keep, default 4, + 1 for BOS) and the tail, to num_ctx - max((num_ctx - n_keep) // 2, 1)
     tokens (about half the window); prompt_eval_count is that length (cached tokens count too);
   - "go-runner" (Ollama 0.4 .. 0.29): whole if T <= num_ctx; otherwise n_keep + the tail, num_ctx tokens;
   - "error" (llama-server without context shift): HTTP 400 with Ollama's ``CONTEXT_ERROR``.

The answer is then built from what the model saw: the kept messages, each cut to its kept tokens
(a token is ``chars_per_token`` characters, so "keeps n tokens" keeps about n * chars_per_token characters).
Not emulated: ``truncate: false`` (Ollama then sends the prompt whole and llama-server refuses it), images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TEMPLATE_TOKENS = 4  # per chat message: e.g. gemma's "<start_of_turn>user\n" ... "<end_of_turn>\n"
DEFAULT_NUM_KEEP = 4  # api.DefaultOptions().NumKeep
BOS_TOKENS = 1  # the tokenizer's BOS token, kept on top of num_keep
CONTEXT_ERROR = ("the prompt is longer than the context length currently available to the model; shorten the "
                 "prompt, adjust the context length in settings, or use a model with a longer context length")


def count_tokens(text: str, chars_per_token: float) -> int:
    return math.ceil(len(text) / chars_per_token)


@dataclass
class Fit:
    """What the model saw of one generate/chat request, and the counts Ollama reports for it."""

    body: dict[str, Any]  # the request as the model saw it (the request itself when nothing was cut)
    prompt_tokens: int  # the whole prompt, before any cut
    evaluated: int  # prompt_eval_count
    num_ctx: int
    truncation: str
    dropped_messages: int = 0  # chat history dropped from the front
    discarded_tokens: int = 0  # cut from the middle by the runner
    n_keep: int = 0  # head tokens the runner kept when it cut
    rejected: bool = False  # "error" runner: answered 400

    @property
    def truncated(self) -> bool:
        return bool(self.dropped_messages or self.discarded_tokens)

    def log(self, endpoint: str) -> dict[str, Any]:
        """The ``_sim`` entry of /sim/requests; ``seen`` (what the model saw) only when it was cut."""
        entry: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens, "evaluated": self.evaluated, "num_ctx": self.num_ctx,
            "truncated": self.truncated, "dropped_messages": self.dropped_messages,
            "discarded_tokens": self.discarded_tokens, "n_keep": self.n_keep, "rejected": self.rejected,
            "truncation": self.truncation,
        }
        if self.truncated:
            keys = ("messages",) if endpoint == "chat" else ("system", "prompt")
            entry["seen"] = {k: self.body[k] for k in keys if k in self.body}
        return entry


def _content(message: dict[str, Any]) -> str:
    return str(message.get("content") or "")


def _tool_block_start(messages: list[dict[str, Any]], i: int) -> int:
    """Never start at a tool reply whose assistant tool call would be dropped (prompt.go toolBlockStartIndex)."""
    if i <= 0 or i >= len(messages) or messages[i].get("role") != "tool":
        return i
    start = i
    while start > 0 and messages[start - 1].get("role") == "tool":
        start -= 1
    if start > 0 and messages[start - 1].get("role") == "assistant" and messages[start - 1].get("tool_calls"):
        return start - 1
    return i


def history_start(messages: list[dict[str, Any]], sizes: list[int], num_ctx: int) -> int:
    """Index of the first message kept after the front of the history is dropped (prompt.go chatPrompt)."""
    for i in range(len(messages)):
        start = _tool_block_start(messages, i)
        system = sum(n for m, n in zip(messages[:start], sizes, strict=False) if m.get("role") == "system")
        if system + sum(sizes[start:]) <= num_ctx or i == len(messages) - 1:
            return start
    return 0


def runner_cut(tokens: int, num_ctx: int, num_keep: int, truncation: str) -> tuple[int, int] | None:
    """(new length, n_keep) when the runner cuts a prompt of ``tokens``; None when it keeps it whole;
    ``ContextTooLong`` for the "error" runner."""
    if truncation == "go-runner":
        if tokens <= num_ctx:
            return None
    elif num_ctx <= 1 or tokens <= num_ctx - 1:  # llama-server leaves one token of room
        return None
    if truncation == "error":
        raise ContextTooLong()
    n_keep = min((tokens if num_keep < 0 else num_keep) + BOS_TOKENS, num_ctx - 1)
    if truncation == "go-runner":
        return num_ctx, n_keep
    return num_ctx - max((num_ctx - n_keep) // 2, 1), n_keep


class ContextTooLong(Exception):
    """The "error" runner refuses a prompt that does not fit (Ollama answers 400 ``CONTEXT_ERROR``)."""


def _kept_text(text: str, first: int, ranges: list[tuple[int, int]], cpt: float) -> str:
    """The characters of ``text`` (its tokens start at position ``first``) inside the kept token ranges."""
    n = count_tokens(text, cpt)
    parts = []
    for lo, hi in ranges:
        a, b = max(lo - first, 0), min(hi - first, n)
        if a < b:
            parts.append(text[min(len(text), math.floor(a * cpt)):len(text) if b == n else math.floor(b * cpt)])
    return "".join(parts)


def fit_prompt(endpoint: str, body: dict[str, Any], num_ctx: int, truncation: str, cpt: float) -> Fit:
    """Fit a generate/chat request into ``num_ctx`` tokens as Ollama does (see the module docstring)."""
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    num_keep = options.get("num_keep")
    if not isinstance(num_keep, (int, float)) or isinstance(num_keep, bool):
        num_keep = DEFAULT_NUM_KEEP
    if endpoint == "chat":
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        sizes = [TEMPLATE_TOKENS + count_tokens(_content(m), cpt) for m in messages]
        start = history_start(messages, sizes, num_ctx)
        kept = [m for m in messages[:start] if m.get("role") == "system"] + messages[start:]
        texts, overhead = [_content(m) for m in kept], TEMPLATE_TOKENS
        fit = Fit(body, sum(sizes), 0, num_ctx, truncation, dropped_messages=len(messages) - len(kept))
    else:
        system, prompt = str(body.get("system") or ""), str(body.get("prompt") or "")
        texts, overhead, kept = ([system, prompt] if system else [prompt]), 0, []
        fit = Fit(body, sum(count_tokens(t, cpt) for t in texts), 0, num_ctx, truncation)
    total = sum(overhead + count_tokens(t, cpt) for t in texts)  # what is left after the history was dropped
    try:
        cut = runner_cut(total, num_ctx, int(num_keep), truncation)
    except ContextTooLong:
        fit.rejected = True
        return fit
    if cut is None:
        fit.evaluated = total
        if fit.dropped_messages:
            fit.body = {**body, "messages": kept}
        return fit
    length, fit.n_keep = cut
    fit.evaluated, fit.discarded_tokens = length, total - length
    ranges = [(0, fit.n_keep), (total - (length - fit.n_keep), total)]
    seen, position = [], 0
    for text in texts:
        size = overhead + count_tokens(text, cpt)
        in_view = any(lo < position + size and position < hi for lo, hi in ranges if lo < hi)
        seen.append((in_view, _kept_text(text, position + overhead, ranges, cpt)))
        position += size
    if endpoint == "chat":
        fit.body = {**body, "messages": [{**m, "content": t} for m, (v, t) in zip(kept, seen, strict=True) if v]}
    else:
        parts = [t if v else "" for v, t in seen]
        fit.body = {**body, "system": parts[0] if len(parts) > 1 else "", "prompt": parts[-1]}
    return fit
