"""The context guard: a prompt is never answered as if it fitted when it did not.

Before a request is sent its tokens are estimated on the high side (UTF-8 bytes / 3 plus the chat
template) and it is refused when that and room for the answer exceed the `num_ctx` it runs with.

After the answer, the server's `prompt_eval_count` (P) says how much of the prompt the model saw. How
Ollama reports it (read in Ollama's source):
- the Go runners (Ollama 0.4 to 0.29, runner/ollamarunner and llamarunner): P is the prompt's token count
  after truncation, counted before the prompt cache is consulted, so a cached prefix is included. A
  prompt longer than num_ctx keeps `num_keep` (default 4) tokens and the tail, to exactly num_ctx: P == num_ctx.
- llama-server (Ollama 0.30 and later, llm/llama_server.go): P = cache_n + prompt_n, again with the cached
  prefix. A prompt of num_ctx tokens or more keeps num_keep (+1 for BOS) and the tail, to
  num_ctx - (num_ctx - num_keep) // 2 tokens: about half the window; without context shift it answers 400.
- both, before the runner (server/prompt.go): a chat that does not fit drops its earliest messages, keeping
  the system messages and the last one.
So a cached prefix never lowers P, and a cut shows as P == num_ctx, P at the half-window length, or P far
below what text of this kind takes. The last is judged against the characters per token this session's
own uncut answers showed, so it follows the model's tokenizer and the workflow's language.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import deque
from dataclasses import dataclass

ANSWER_RESERVE = 512  # tokens kept free for the answer when the options set no num_predict
TEMPLATE_TOKENS = 8  # per message: role markers and separators of a chat template, on the high side
DEFAULT_NUM_KEEP = 4  # Ollama's default num_keep
FALLBACK_NUM_CTX = 2048  # what older servers use when neither the workflow nor /api/ps says


@dataclass(frozen=True)
class Estimate:
    tokens: int  # on the high side: what the refusal uses
    chars: int

    @classmethod
    def of(cls, messages: list[dict]) -> Estimate:
        texts = [str(m.get("content") or "") for m in messages]
        size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
        return cls(math.ceil(size / 3) + TEMPLATE_TOKENS * (len(texts) + 1), sum(len(t) for t in texts))


def reserve(options: dict | None, num_ctx: int) -> int:
    """Tokens left for the answer: num_predict when the options set one, else ANSWER_RESERVE (a quarter of
    a small window at most)."""
    predict = (options or {}).get("num_predict")
    if isinstance(predict, int) and predict > 0:
        return predict
    return min(ANSWER_RESERVE, num_ctx // 4)


def fits(estimate: Estimate, num_ctx: int, options: dict | None) -> bool:
    return estimate.tokens + reserve(options, num_ctx) <= num_ctx


def refusal(estimate: Estimate, num_ctx: int, model: str, options: dict | None) -> str:
    room = reserve(options, num_ctx)
    return (f"prompt of ~{estimate.tokens} tokens (estimated) does not fit num_ctx {num_ctx} of {model} with "
            f"{room} left for the answer; not sent (raise num_ctx, or set `overflow: shorten`)")


def half_window(num_ctx: int, num_keep: int) -> set[int]:
    """The lengths llama-server cuts a too-long prompt to (num_keep, and num_keep + 1 with a BOS token)."""
    return {num_ctx - max((num_ctx - k) // 2, 1) for k in (num_keep, num_keep + 1)}


class CutDetector:
    """Judges each answer's prompt_eval_count; learns the characters per token of uncut prompts."""

    PRIOR_CHARS_PER_TOKEN = 4.0  # English prose; the limit below starts loose and tightens with data
    LOOSE = 2.0  # cut when the server saw under half the tokens the text should take
    TIGHT = 1.6

    def __init__(self) -> None:
        self._ratios: deque[float] = deque(maxlen=256)
        self._lock = threading.Lock()

    def _typical(self) -> tuple[float, float, bool]:
        """(characters per token, the factor above it that shows a cut, learned from this session)."""
        with self._lock:
            if len(self._ratios) >= 16:
                return statistics.median(self._ratios), self.TIGHT, True
        return self.PRIOR_CHARS_PER_TOKEN, self.LOOSE, False

    def cut(self, evaluated: int | None, estimate: Estimate, num_ctx: int, num_keep: int = DEFAULT_NUM_KEEP) -> str | None:
        """Why the server's count shows the prompt was cut, or None (recording an uncut prompt's ratio)."""
        if not evaluated or evaluated <= 0 or estimate.chars <= 0:
            return None  # nothing reported: nothing to judge by
        ratio = estimate.chars / evaluated
        typical, factor, learned = self._typical()
        seen = f"the server evaluated {evaluated} tokens of a prompt estimated at ~{estimate.tokens} (num_ctx {num_ctx})"
        if evaluated >= num_ctx - 1:
            return f"prompt cut to the context window: {seen}"
        if evaluated in half_window(num_ctx, num_keep) and (not learned or ratio > typical * 1.3):
            # exactly the length llama-server cuts to: a cut, unless this text's own density explains it
            return f"prompt cut to half the context window (llama-server's context shift): {seen}"
        if ratio > typical * factor:
            return f"prompt cut: {seen}, far fewer than {estimate.chars} characters take"
        with self._lock:
            self._ratios.append(ratio)
        return None
