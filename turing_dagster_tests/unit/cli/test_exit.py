"""The `turing` executable's exit: what Python's own exit does (atexit handlers, flushed output, threads
still working waited for, the exit code), without the module teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _exit_with(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent("""
        import atexit, sys, threading, time
        from pathlib import Path
        from turing_dagster.cli import exit_without_teardown
        out = Path(sys.argv[1])
        atexit.register(lambda: (out / "atexit").write_text("ran"))
    """) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)


def test_the_code_atexit_handlers_and_unflushed_output_survive(tmp_path):
    done = _exit_with(tmp_path, """
        sys.stdout.write("no newline, still buffered")
        exit_without_teardown(3)
    """)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline, still buffered"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_message_exits_1_with_it_on_stderr(tmp_path):
    done = _exit_with(tmp_path, "exit_without_teardown('error: it went wrong')")
    assert (done.returncode, done.stderr.strip()) == (1, "error: it went wrong")
    assert (tmp_path / "atexit").exists()


def test_a_thread_still_working_is_waited_for(tmp_path):
    done = _exit_with(tmp_path, """
        def work():
            time.sleep(0.3)
            (out / "thread").write_text("finished")
        threading.Thread(target=work).start()
        exit_without_teardown(None)
    """)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "atexit").exists()
