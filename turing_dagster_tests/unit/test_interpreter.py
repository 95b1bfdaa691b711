"""The interpreter's tuning: short GIL turns and rare full collections while a step runs, and rare full
collections in the `turing` process, each restored (or never lowered)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

from turing_dagster.interpreter import FULL_PASS_EVERY, SWITCH_INTERVAL_SECONDS, rare_full_passes, tuned_for_steps


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_a_step_turns_the_gil_often_and_rarely_makes_full_passes_then_restores_both(thresholds):
    interval = sys.getswitchinterval()
    gc.set_threshold(500, 7, 10)
    with pytest.raises(RuntimeError), tuned_for_steps():
        assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS
        assert gc.get_threshold() == (500, 7, FULL_PASS_EVERY)  # the young passes as they were
        raise RuntimeError("a step failed")
    assert (sys.getswitchinterval(), gc.get_threshold()) == (interval, (500, 7, 10))


def test_a_rarer_setting_is_never_made_more_frequent(thresholds):
    gc.set_threshold(700, 10, 5 * FULL_PASS_EVERY)
    assert rare_full_passes() == (700, 10, 5 * FULL_PASS_EVERY)
    assert gc.get_threshold() == (700, 10, 5 * FULL_PASS_EVERY)


def test_the_turing_executable_makes_full_passes_rare():
    script = textwrap.dedent("""
        import atexit, gc, sys
        from turing_dagster.cli import console_main
        atexit.register(lambda: print("thresholds", *gc.get_threshold()))
        sys.argv = ["turing", "--help"]
        console_main()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"thresholds 700 10 {FULL_PASS_EVERY}"
