"""One run at a time per set of Ollama hosts, whoever launched it.

Two runs on one host would swap each other's models in and out of GPU memory; runs on different hosts
should proceed together. Every conversation asset of a workflow with a model step is in the Dagster
concurrency pool `ollama:<its hosts>` (normalised, sorted, comma-joined). With the instance's pools at run
granularity and a limit of 1 (dagster.yaml; `turing init` sets each pool's limit), the run queue starts a
run only when no other run of that pool is in progress: runs from the UI's Materialize and backfills (the
implicit asset job), the sensor and the workflow's job alike, since the pool belongs to the asset.

Runs that execute in the launching process never pass the queue (`turing run`, `dagster job execute`,
`dagster asset materialize`); the queue counts them, and each of their steps waits here, before it claims
its waves, for every run of its pool that started before it.
"""

from __future__ import annotations

import time

import dagster as dg

from turing_dagster import settings
from turing_dagster.settings import HostConfigError
from turing_dagster.store.claims import holder_alive, holder_for
from turing_dagster.workflows.spec import Workflow

POOL_PREFIX = "ollama:"
PROCESS_TAG = "turing/process"  # host:pid of the process running the run's steps
_IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_UNTAGGED_GRACE_SECONDS = 60  # a run that never reached a step in this long is taken for dead


def pool_name(workflow: Workflow) -> str | None:
    """The workflow's pool; None for a workflow without a model step (it drives no host)."""
    if all(c.is_python for c in workflow.conversations):
        return None
    try:
        hosts = settings.workflow_hosts(workflow.name)
    except HostConfigError:
        # a malformed entry: the run itself fails on it in one line; definitions must still load
        hosts = ["unparsed:" + "".join(settings.raw_hosts(workflow.name).split())]
    return POOL_PREFIX + ",".join(sorted(set(hosts)))


def pools_hold_whole_runs(instance: dg.DagsterInstance) -> bool:
    """Whether the instance's pools count whole runs (`concurrency: pools: granularity: run`, dagster.yaml)."""
    granularity = instance.get_concurrency_config().pool_config.pool_granularity
    return granularity is not None and granularity.value == "run"


def set_pool_limits(instance: dg.DagsterInstance, workflows: list[Workflow]) -> list[str]:
    """Give every workflow's pool its limit of one run (a pool first seen by the queue otherwise takes the
    default limit one dequeue pass late, letting two runs in). Returns the pools set.

    Only at run granularity: at Dagster's default (op) granularity a limit would make every step wait for a
    slot, two runs could still alternate steps, and a killed process would keep its slot."""
    if not pools_hold_whole_runs(instance):
        return []
    pools = sorted({p for p in (pool_name(w) for w in workflows) if p})
    storage = instance.event_log_storage
    for pool in pools:
        if storage.supports_global_concurrency_limits and storage.get_concurrency_info(pool).slot_count != 1:
            storage.set_concurrency_slots(pool, 1)
    return pools


def wait_for_hosts(context: dg.AssetExecutionContext, pool: str | None, poll_seconds: float = 1.0) -> float:
    """Wait until no run of `pool` that started before this one is in progress; returns the seconds waited.

    A run whose process is gone (killed on this machine) stays STARTED in Dagster's storage: it is
    reported failed here rather than waited for."""
    if pool is None:
        return 0.0
    instance, run_id = context.instance, context.run_id
    mine = instance.get_run_record_by_id(run_id)
    if mine is None:
        return 0.0
    if PROCESS_TAG not in mine.dagster_run.tags:
        instance.add_run_tags(run_id, {PROCESS_TAG: holder_for("").rstrip(":")})
    filters = dg.RunsFilter(tags={f".dagster/pool/{pool}": "true"}, statuses=_IN_PROGRESS)
    waited, said = 0.0, False
    while True:
        ahead = [
            r for r in instance.get_run_records(filters=filters)
            if r.dagster_run.run_id != run_id
            and (r.create_timestamp, r.dagster_run.run_id) < (mine.create_timestamp, run_id)
            and _alive(instance, r)
        ]
        if not ahead:
            return waited
        if not said:
            context.log.info(f"waiting for run {ahead[0].dagster_run.run_id} on the same Ollama hosts ({pool})")
            said = True
        time.sleep(poll_seconds)
        waited += poll_seconds
        poll_seconds = min(poll_seconds * 1.5, 5.0)


def _alive(instance: dg.DagsterInstance, record) -> bool:
    run = record.dagster_run
    process = run.tags.get(PROCESS_TAG)
    if process is None:  # launched, not at a step yet (or died right then)
        return time.time() - record.create_timestamp.timestamp() < _UNTAGGED_GRACE_SECONDS
    if holder_alive(f"{process}:"):
        return True
    instance.report_run_failed(run, f"its process ({process}) is gone; another run on its Ollama hosts went on")
    return False
