"""`turing run`: admit pending postings into waves and materialize them through Dagster, in this process."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from turing_dagster.dagster_defs.instance import register_partitions
from turing_dagster.dagster_defs.partitions import (
    RANGE_END,
    RANGE_START,
    SCOPE_TAG,
    WAVES_TAG,
    wave_partitions,
    waves_label,
)
from turing_dagster.dagster_defs.run_hosts import set_pool_limits
from turing_dagster.settings import DagsterHomeError
from turing_dagster.steps.progress import step_versions
from turing_dagster.store import claims
from turing_dagster.store.admission import admit_pending
from turing_dagster.store.engine import first_line
from turing_dagster.store.marks import mark_settled, plan_version, settled_counts
from turing_dagster.store.retry import with_reconnect
from turing_dagster.store.standing import Scope, assess_waves
from turing_dagster.store.sync import sync_workflows
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow

_WAVE_FIELDS = ("completed", "failed", "skipped", "reused")  # per wave: summed over a range's waves
_STEP_FIELDS = ("calls", "loads", "load_seconds", "seconds", "tokens_out")  # per step: the same on every wave
BUSY = "WaveBusyError"  # the typed failure of a step whose waves another run holds (store/claims.py)


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
    busy: list[str] = field(default_factory=list)  # waves left alone: another run holds them
    busy_runs: list[str] = field(default_factory=list)  # runs whose step found its waves taken meanwhile
    steps: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    stale: int = 0  # postings with results of an earlier definition, after the runs
    held: int = 0  # postings a failure holds until `--retry-failed`, after the runs
    retried: int = 0  # postings whose failure the next plain run retries
    scope: Scope = field(default_factory=Scope)

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


def _caused_by(error, cls_name: str) -> bool:
    while error is not None:
        if error.cls_name == cls_name:
            return True
        error = error.cause
    return False


def _collect(report: RunReport, result: dg.ExecuteInProcessResult) -> None:
    seen: set[str] = set()
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        name = mat.asset_key.path[-1]
        for key in _WAVE_FIELDS:
            if key in mat.metadata:
                report.steps[name][key] += float(mat.metadata[key].value)
        if name in seen:  # a range run repeats the step's own numbers on every wave
            continue
        seen.add(name)
        for key in _STEP_FIELDS:
            if key in mat.metadata:
                report.steps[name][key] += float(mat.metadata[key].value)
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if _caused_by(error, "DagsterExecutionInterruptedError"):
                raise RunInterrupted()
            if _caused_by(error, BUSY):
                report.busy_runs.append(root_cause(error))
                continue
            report.failures.append(root_cause(error))  # one step per run: its message names the conversation
    if not result.success and not report.failures and not report.busy_runs:
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
    scope: Scope | None = None,
    before: Callable[[list[str]], None] | None = None,
) -> RunReport:
    """Admit all pending postings (no waiting) and run every wave with work in `scope`, a range per run.

    A plain scope looks only at waves not settled under the current definitions (new waves, and those
    written to since); `--stale` and `--retry-failed` look at every wave. `before(waves)` is told the waves
    just before they run (`turing run` prints what they will cost)."""
    scope = scope or Scope()
    sync_workflows(engine, [workflow])
    report = RunReport(scope=scope)
    _, waves = admit_pending(engine, workflow, wave_size, wait=False)
    report.admitted = [w.key for w in waves]
    if waves:
        echo(f"admitted {sum(len(w.posting_ids) for w in waves)} pending postings into {len(waves)} new wave(s): "
             f"{', '.join(report.admitted)}")
    plan = WorkflowPlan(workflow)
    steps = step_versions(plan)
    partitions = wave_partitions(workflow.name)
    # the waves with work first, then register: a wave the sensor admits in between is registered too
    work = [a.wave_key for a in assess_waves(engine, workflow.workflow_id, steps, scope)
            if a.work]
    known = set(instance.get_dynamic_partitions(partitions.name))
    missing = [k for k in wave_keys(engine, workflow.workflow_id) if k not in known]
    if missing:
        register_partitions(instance, partitions.name, missing)
    set_pool_limits(instance, [workflow])
    busy = {c.wave_key: c for c in claims.busy_claims(engine, workflow.workflow_id, work)}
    for claim in busy.values():
        echo(f"skipping wave {claim.wave_key}: another run is processing it ({claim.holder})")
    report.busy = sorted(busy)
    todo = [k for k in work if k not in busy]
    if before is not None and todo:
        before(todo)
    report.ranges = contiguous_ranges(todo, instance.get_dynamic_partitions(partitions.name))
    for start, end in report.ranges:
        label = waves_label(start, end)
        echo(f"running {workflow.name} on wave {label}")
        tags = {SCOPE_TAG: scope.tag, WAVES_TAG: label, **({RANGE_START: start, RANGE_END: end} if start != end else {})}
        try:
            result = job.execute_in_process(
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
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
    # the runs rode over a database restart: so does settling, rather than exit 1 after the work is done
    report.stale, report.held, report.retried = with_reconnect(lambda: settle(engine, plan), "settling finished waves")
    return report


def settle(engine: sa.Engine, plan: WorkflowPlan) -> tuple[int, int, int]:
    """Mark the waves a plain run has nothing to do in under the current definitions (a write of its own,
    after the reads), so the next run skips them; returns the workflow's (stale, held, retried) postings,
    read from the marks and the waves still open."""
    steps = step_versions(plan)
    workflow_id = plan.workflow.workflow_id
    looked = assess_waves(engine, workflow_id, steps, Scope())
    mark_settled(engine, workflow_id, {a.wave_key: (a.stale, a.held) for a in looked if not a.plain_work}, plan_version(steps))
    stale, held = settled_counts(engine, workflow_id, plan_version(steps))
    still_open = [a for a in looked if a.plain_work]
    return (stale + sum(a.stale for a in still_open), held + sum(a.held for a in still_open),
            sum(a.retried for a in still_open))
