"""`turing run`: admit pending postings into waves and materialize them through Dagster, in this process."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from turing_dagster.dagster_defs.instance import register_partitions
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.run_hosts import host_run_config
from turing_dagster.settings import DagsterHomeError
from turing_dagster.steps.progress import step_versions
from turing_dagster.store import claims, current
from turing_dagster.store.admission import admit_pending
from turing_dagster.store.engine import first_line
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.sync import sync_workflows
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
_STEP_FIELDS = ("completed", "failed", "skipped", "loads", "load_seconds", "seconds", "tokens_out")


def unfinished_waves(engine: sa.Engine, plan: WorkflowPlan, retry_failed: bool = False) -> list[str]:
    """Waves with a posting that has not reached the end under the current definitions.

    A posting held up by a failed step keeps its wave open when the server was away, or with
    `retry_failed`; so a posting that always fails (bad input) does not cost a load on every run.
    Computed in SQL over the waves not yet marked finished under these definitions.
    """
    return current.unfinished_waves(engine, plan.workflow.workflow_id, step_versions(plan), retry_failed)


def contiguous_ranges(selected: list[str], ordered: list[str]) -> list[tuple[str, str]]:
    """Group waves into runs: a Dagster run covers one contiguous range of dynamic partitions."""
    position = {key: i for i, key in enumerate(ordered)}
    ranges: list[tuple[str, str]] = []
    for key in sorted((k for k in selected if k in position), key=position.__getitem__):
        if ranges and position[key] == position[ranges[-1][1]] + 1:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


@dataclass
class RunReport:
    admitted: list[str] = field(default_factory=list)
    ranges: list[tuple[str, str]] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))

    @property
    def ok(self) -> bool:
        return not self.failures


def root_cause(error) -> str:
    """The innermost error's message without its class path: the line a user can act on."""
    if error is None:
        return "step failed"
    while error.cause is not None:
        error = error.cause
    text = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "error"
    head, sep, rest = text.partition(": ")
    return rest if sep and "." in head and " " not in head else text


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run (Dagster records it as a step failure): stop the command too."""


def _interrupted(error) -> bool:
    while error is not None:
        if error.cls_name == "DagsterExecutionInterruptedError":
            return True
        error = error.cause
    return False


def _collect(report: RunReport, result: dg.ExecuteInProcessResult) -> None:
    seen: set[str] = set()
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        name = mat.asset_key.path[-1]
        if name in seen:  # a range run repeats the step's totals on every partition
            continue
        seen.add(name)
        for key in _STEP_FIELDS:
            if key in mat.metadata:
                report.steps[name][key] += float(mat.metadata[key].value)
    for event in result.all_events:
        if event.is_step_failure:
            if _interrupted(event.step_failure_data.error):
                raise RunInterrupted()
            report.failures.append(f"{event.step_key}: {root_cause(event.step_failure_data.error)}")
    if not result.success and not report.failures:
        report.failures.append(f"run {result.run_id} failed")


def _storage_error(exc: Exception, instance: dg.DagsterInstance) -> Exception:
    """What escapes execute_in_process is Dagster's own trouble (step errors are step failures): when it
    is its storage's database (gone for longer than dagster-postgres retries a connection), one line."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, sa.exc.OperationalError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return exc
    what, why = first_line(exc), first_line(cause)
    return DagsterHomeError(
        f"DAGSTER_HOME={instance.root_directory}: Dagster's storage failed during the run ({what}: {why}); "
        "committed chunks are kept and the next `turing run` continues from there"
    )


def run_workflow(
    engine: sa.Engine,
    workflow: Workflow,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    wave_size: int,
    echo: Callable[[str], None] = print,
    log_level: str = "CRITICAL",
    retry_failed: bool = False,
) -> RunReport:
    """Admit all pending postings (no waiting) and run every unfinished wave, a range per run."""
    sync_workflows(engine, [workflow])
    report = RunReport()
    _, waves = admit_pending(engine, workflow, wave_size, wait=False)
    report.admitted = [w.key for w in waves]
    if waves:
        echo(f"admitted {sum(len(w.posting_ids) for w in waves)} pending postings into {len(waves)} new wave(s): "
             f"{', '.join(report.admitted)}")
    partitions = wave_partitions(workflow.name)
    # unfinished first, then register: a wave the sensor admits in between is registered too
    unfinished = unfinished_waves(engine, WorkflowPlan(workflow), retry_failed)
    known = set(instance.get_dynamic_partitions(partitions.name))
    missing = [k for k in wave_keys(engine, workflow.workflow_id) if k not in known]
    if missing:
        register_partitions(instance, partitions.name, missing)
    busy = {c.wave_key: c for c in claims.busy_claims(engine, workflow.workflow_id, unfinished)}
    for claim in busy.values():
        echo(f"skipping wave {claim.wave_key}: another run is processing it ({claim.holder})")
    report.busy = sorted(busy)
    report.ranges = contiguous_ranges(
        [k for k in unfinished if k not in busy], instance.get_dynamic_partitions(partitions.name)
    )
    for start, end in report.ranges:
        label = start if start == end else f"{start}..{end}"
        echo(f"running {workflow.name} on wave {label}")
        tags = {RANGE_START: start, RANGE_END: end} if start != end else {}
        try:
            result = job.execute_in_process(
                # explicit run config replaces the job's per-partition default: keep the workflow's own hosts
                run_config={**(host_run_config(workflow) or {}), "loggers": {"console": {"config": {"log_level": log_level}}}},
                instance=instance,
                partition_key=start if start == end else None,
                tags=tags,
                raise_on_error=False,
            )
        except Exception as exc:
            error = _storage_error(exc, instance)
            if error is exc:
                raise
            raise error from exc
        report.run_ids.append(result.run_id)
        _collect(report, result)
    if report.ranges:  # mark what these runs finished, so the next `turing run` does not read it again
        # the runs rode over a database restart: so does this, rather than exit 1 after the work is done
        with_reconnect(lambda: unfinished_waves(engine, WorkflowPlan(workflow)), "marking finished waves")
    return report
