"""`<workflow>_new_postings`: new enabled postings become a wave and a run, batched."""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.


import dagster as dg

from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from turing_dagster.admission import admit_pending
from turing_dagster.assets import wave_partitions
from turing_dagster.resources import TuringStore
from turing_dagster.store.engine import StoreError
from turing_dagster.store.migrate import require_schema
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflow_spec import Workflow


def build_new_postings_sensor(workflow: Workflow, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    partitions = wave_partitions(workflow.name)

    @dg.sensor(
        name=f"{workflow.name}_new_postings",
        job=job,
        minimum_interval_seconds=30,
        description=(
            f"Admits new enabled postings into a wave of {workflow.name} once {workflow.waves.min_size} are "
            f"pending or the oldest waited {workflow.waves.max_wait_seconds:.0f}s, and runs it."
        ),
    )
    def new_postings(context: dg.SensorEvaluationContext, store: TuringStore) -> dg.SensorResult | dg.SkipReason:
        engine = store.engine()
        try:
            require_schema(engine)
        except StoreError as exc:
            return dg.SkipReason(str(exc))
        decision, _ = admit_pending(engine, workflow)
        # waves in the store that the instance does not know yet: admitted by this tick, or by one
        # that died before its partitions were added; run keys keep their runs from repeating
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        missing = [key for key in wave_keys(engine, workflow.workflow_id) if key not in known]
        if not missing:
            return dg.SkipReason(decision.reason)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"{workflow.name}:{key}", partition_key=key, tags={"turing/wave": key})
                for key in missing
            ],
            dynamic_partitions_requests=[partitions.build_add_request(missing)],
        )

    return new_postings
