"""Postings held by a failed step: the lines that tell the user how many, and what retries them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Held:
    held: int  # waits for `--retry-failed`: a plain run leaves it alone
    retried: int  # the server misbehaved: the next plain run retries it

    def lines(self, workflow: str) -> list[str]:
        """What to tell the user; nothing when no posting waits on a failure."""
        out = []
        if self.held:
            out.append(f"{self.held} posting(s) are held by a failed step; "
                       f"`turing run {workflow} --retry-failed` retries them")
        if self.retried:
            out.append(f"{self.retried} posting(s) failed because the server misbehaved; "
                       f"the next `turing run {workflow}` retries them")
        return out

