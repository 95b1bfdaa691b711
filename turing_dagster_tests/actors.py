"""Python actors used by the test workflows."""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVALS: list[float] = []  # the interpreter's switch interval while `shout` ran
GC_THRESHOLDS: list[tuple[int, int, int]] = []  # and the collector's thresholds


def clean(posting: dict, inputs: dict) -> str:
    text = (posting.get("job_description") or "").strip()
    return text if len(text) >= 20 else "[NO_CONTENT]"


def pick(posting: dict, inputs: dict) -> str:
    return (inputs.get("improve") or inputs.get("summarize") or "").strip()


def explode(posting: dict, inputs: dict) -> str:
    if posting["posting_id"].endswith("7"):
        raise RuntimeError("actor bug for this posting")
    return "fine"


def shout(posting: dict, inputs: dict) -> str:
    SWITCH_INTERVALS.append(sys.getswitchinterval())
    GC_THRESHOLDS.append(gc.get_threshold())
    return f"{(posting.get('job_title') or posting['posting_id']).upper()} / {inputs['risky']}"
