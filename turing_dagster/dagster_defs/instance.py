"""The Dagster instance in DAGSTER_HOME, created once and safely.

Dagster creates its storage (SQLite files or PostgreSQL tables, stamped by alembic) the first time an
instance is opened. Two `turing run` started together on a fresh home used to race through that and
leave two alembic heads behind, breaking the home for good; so every Turing command that opens the
instance does it holding an exclusive lock file in DAGSTER_HOME, and `turing init` does it first.
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from turing_dagster import settings
from turing_dagster.settings import DagsterHomeError

LOCK_FILE = ".turing-instance.lock"


@contextlib.contextmanager
def home_lock(home: Path) -> Iterator[None]:
    """Exclusive across processes on this machine; a second creator waits here for the first."""
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create_storage(instance: dg.DagsterInstance) -> None:
    # storages may be opened lazily: touch each one while the lock is held, so none is created later
    instance.get_runs(limit=1)
    instance.get_dynamic_partitions("turing_instance_check")
    instance.all_instigator_state()


def dagster_instance(create_home: bool = False) -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME (the project's own folder when unset), its storage created under the lock.

    `create_home`: make the folder first (`turing init`); otherwise a missing folder is the user's to fix.
    """
    home = settings.dagster_home()
    try:
        if create_home:
            home.mkdir(parents=True, exist_ok=True)
            home = settings.dagster_home()  # copies the project's dagster.yaml into the new folder
        with home_lock(home):
            instance = dg.DagsterInstance.get()
            _create_storage(instance)
            return instance
    except Exception as exc:  # Dagster raises several types here, all about the folder or its yaml
        text = " ".join(str(exc).split())
        raise DagsterHomeError(f"DAGSTER_HOME={home}: {text[:300]}") from exc


def register_partitions(instance: dg.DagsterInstance, name: str, keys: Sequence[str]) -> None:
    """Add dynamic partitions, tolerating another process adding the same ones at the same moment
    (Dagster checks, then inserts: the loser of that race gets a unique-constraint error)."""
    def missing() -> list[str]:
        known = set(instance.get_dynamic_partitions(name))  # one query, not one per key
        return [k for k in keys if k not in known]

    for _ in range(3):
        todo = missing()
        if not todo:
            return
        try:
            instance.add_dynamic_partitions(name, todo)
            return
        except sa.exc.IntegrityError:
            continue  # someone else added some of them: read again and add what is still missing
    instance.add_dynamic_partitions(name, missing())


def main() -> None:
    """`python -m turing_dagster.dagster_defs.instance`: create the instance and give every workflow's Ollama
    pool its limit of one run; what `turing init` runs, in a child process, so that the `turing` process
    itself never imports Dagster for it."""
    from turing_dagster.dagster_defs.run_hosts import pools_hold_whole_runs, set_pool_limits
    from turing_dagster.workflows.loader import load_workflows_sparing

    try:
        instance = dagster_instance(create_home=True)
        set_pool_limits(instance, load_workflows_sparing()[0])
        if not pools_hold_whole_runs(instance):
            print(f"note: {instance.root_directory}/dagster.yaml does not set `concurrency: pools: granularity: run`: "
                  "runs the queue starts (the UI, the sensors) are not kept to one per Ollama host (see the "
                  "project's dagster.yaml)", file=sys.stderr)
        print(instance.root_directory)
    except DagsterHomeError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
