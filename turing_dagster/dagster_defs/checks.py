"""QA asset checks: per conversation asset, evaluated over the wave(s) of the run that materialised it.

The findings come from `steps/qa.py` (read from the store after the asset's IO manager committed its
chunks); they show in the UI's Checks tab with the offending postings in their metadata.
"""
# No `from __future__ import annotations` here: Dagster reads the check function's annotations.

from collections.abc import Iterator

import dagster as dg

from turing_dagster.dagster_defs.assets import asset_key
from turing_dagster.dagster_defs.partitions import wave_partitions
from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.steps.qa import CHECKS, ERROR, Finding, applicable_checks, evaluate
from turing_dagster.store.retry import with_reconnect
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name

PARTITION = "dagster/partition"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def run_waves(tags: dict[str, str], partition_keys: list[str]) -> list[str]:
    """The waves a run materialised: its partition, or its range over the known wave partitions."""
    if PARTITION in tags:
        return [tags[PARTITION]]
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if start in partition_keys and end in partition_keys:
        return partition_keys[partition_keys.index(start) : partition_keys.index(end) + 1]
    return []


def _markdown(finding: Finding, shown: int) -> str:
    if not finding.offenders:
        return "none"
    lines = [f"- `{pid}`: {what}" for pid, what in finding.offenders[:shown]]
    hidden = finding.offending - shown
    return "\n".join(lines + ([f"- ... and {hidden} more"] if hidden > 0 else []))


def check_result(finding: Finding, key: dg.AssetKey) -> dg.AssetCheckResult:
    meta = finding.metadata()
    shown = len(meta.pop("offenders"))
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=finding.check,
        passed=finding.passed,
        severity=dg.AssetCheckSeverity.ERROR if finding.severity == ERROR else dg.AssetCheckSeverity.WARN,
        metadata={**meta, "offenders": dg.MetadataValue.md(_markdown(finding, shown))},
    )


def build_conversation_checks(plan: WorkflowPlan, step: PlannedStep) -> dg.AssetChecksDefinition:
    key = asset_key(plan.workflow, step)
    partitions = wave_partitions(plan.workflow.name)
    specs = [dg.AssetCheckSpec(name, asset=key, description=CHECKS[name][0]) for name in applicable_checks(step.conversation)]

    @dg.multi_asset_check(specs=specs, name=f"{plan.workflow.name}__{asset_name(step.conversation)}__qa")
    def qa(context: dg.AssetCheckExecutionContext, store: TuringStore) -> Iterator[dg.AssetCheckResult]:
        tags = dict(context.run.tags)
        # a one-wave run names its wave in a tag: no query of the partitions (an event-log read) for it
        known = [] if PARTITION in tags else context.instance.get_dynamic_partitions(partitions.name)
        waves = run_waves(tags, known)
        # read-only, so repeatable after a lost connection (a database restart the step rode over)
        findings = with_reconnect(lambda: list(evaluate(store.engine(), plan, step, waves)), "a QA check",
                                  on_retry=context.log.warning)
        for finding in findings:
            yield check_result(finding, key)

    return qa


def build_workflow_checks(plan: WorkflowPlan) -> list[dg.AssetChecksDefinition]:
    return [build_conversation_checks(plan, step) for step in plan.steps]
