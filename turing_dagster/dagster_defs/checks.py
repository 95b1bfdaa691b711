"""QA asset checks: per conversation asset, evaluated in the asset's own step over the run's waves.

The findings come from `steps/qa.py` (read from the store once the step's chunks are committed); they show
in the UI's Checks tab with the offending postings in their metadata. Running them inside the asset's step
(`check_specs`) spares the run a step per conversation, and the GPU the idle time such a step costs.

They are not partitioned: Dagster 1.13's partitioned checks (a preview) record a single-run backfill's
result for no partition and leave its per-wave rows planned, so each result covers the run's waves and
names them; per-wave counts are in its metadata.
"""
# No `from __future__ import annotations` here: Dagster reads the annotations of what it wraps.

from collections.abc import Iterator

import dagster as dg

from turing_dagster.steps.qa import CHECKS, ERROR, Finding, applicable_checks, evaluate
from turing_dagster.store.retry import with_reconnect
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


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


def check_specs(key: dg.AssetKey, step: PlannedStep) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=key, description=CHECKS[name][0]) for name in applicable_checks(step.conversation)]


def check_results(context: dg.AssetExecutionContext, engine, plan: WorkflowPlan, step: PlannedStep,
                  key: dg.AssetKey, waves: list[str]) -> Iterator[dg.AssetCheckResult]:
    """The step's QA findings over its waves, for the checks this run selected."""
    wanted = {spec.name for spec in check_specs(key, step)}
    selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == key} & wanted
    if not selected:
        return
    # read-only, so repeatable after a lost connection (a database restart the step rode over)
    findings = with_reconnect(lambda: list(evaluate(engine, plan, step, waves)), "a QA check",
                              on_retry=context.log.warning)
    for finding in findings:
        if finding.check in selected:
            yield check_result(finding, key)
