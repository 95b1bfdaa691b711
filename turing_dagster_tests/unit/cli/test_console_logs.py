"""Log records on a `turing` command's console after dagster-postgres retried a connection."""

from __future__ import annotations

import subprocess
import sys

# what a `turing run` process meets: the command runs, then (a PostgreSQL restart under Dagster's
# storage) dagster-postgres logs on the root logger, then a step logs INFO through Dagster's loggers
SCRIPT = """
import logging
from turing_dagster.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
logging.warning("Retrying failed database connection: (psycopg2.OperationalError) shutting down\\n\\n(Background)")
step = logging.getLogger("dagster.builtin.turing.ollama")
step.setLevel(logging.INFO)  # as in a run
step.info("loaded model gemma2 in 0.02 s")
logging.getLogger("turing_dagster.store.retry").warning("database connection lost during a chunk write")
captured = logging.getLogger("dagster.builtin")
captured.addHandler(logging.NullHandler())  # Dagster's capture of a run's records: shown by Dagster, not here
step.warning("a retry Dagster shows itself")
"""


def test_a_root_warning_does_not_turn_on_every_log_line():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "warning: Retrying failed database connection: (psycopg2.OperationalError) shutting down",
        "warning: database connection lost during a chunk write",
    ]
