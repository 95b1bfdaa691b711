"""`<workflow>_new_postings`: new enabled postings become a wave and a run, batched."""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.


import dagster as dg

from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from turing_dagster.admission import admit_pending
from turing_dagster.assets import wave_partitions
from turing_dagster.resources import TuringStore
from turing_dagster.store.engine import StoreError
from turing_dagster.store.migrate import require_schema
from turing_dagster.store.waves import store_token, wave_keys
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
        decision, admitted = admit_pending(engine, workflow)
        # run: the waves this tick admitted, and any the instance does not know (a tick that died
        # after admitting); `turing run` registers and runs its own waves, so they are never here
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        unknown = [key for key in wave_keys(engine, workflow.workflow_id) if key not in known]
        to_run = sorted({*(w.key for w in admitted), *unknown})
        if not to_run:
            return dg.SkipReason(decision.reason)
        # the store's token in the run key: a reset database reuses w000001 and must still run
        token = store_token(engine, workflow.workflow_id)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"{workflow.name}:{token}:{key}", partition_key=key, tags={"turing/wave": key})
                for key in to_run
            ],
            dynamic_partitions_requests=[partitions.build_add_request(unknown)] if unknown else [],
        )

    return new_postings
