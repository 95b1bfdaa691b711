"""Log records on a `turing` command's console: what no one else handles, one line each.

Dagster captures its runs' records itself (its console logger follows `--verbose`); the rest (Turing's
database retries, Dagster's PostgreSQL storage) went to Python's last-resort handler. But one
`logging.warning(...)` on the root logger, which dagster-postgres calls when it retries a connection
(a PostgreSQL restart), runs `logging.basicConfig()`: from then on every record of every logger, each
step's INFO lines included, was printed on stderr, several lines each. A handler of our own on the root
logger keeps `basicConfig` from doing that, and keeps what the last-resort handler showed.
"""

from __future__ import annotations

import logging
import sys


class LastResort(logging.Handler):
    """Python's last-resort handler (WARNING and worse, when no other handler took the record), one
    line per record, to the current sys.stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name) if record.name != "root" else logging.getLogger()
        while logger is not None and logger.parent is not None:  # up to, not including, the root
            if logger.handlers:
                return  # taken already, e.g. by Dagster's capture of a run's loggers
            logger = logger.parent
        try:
            text = record.getMessage().strip()
            first = text.splitlines()[0] if text else record.name
            sys.stderr.write(f"{record.levelname.lower()}: {first}\n")
        except Exception:  # a handler never raises into the code that logged
            self.handleError(record)


def console_logging() -> None:
    """Install LastResort on the root logger, once per process."""
    root = logging.getLogger()
    if not any(isinstance(h, LastResort) for h in root.handlers):
        root.addHandler(LastResort())
