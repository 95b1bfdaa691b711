"""`<workflow>_new_postings`: new enabled postings become a wave and a run, batched."""
# No `from __future__ import annotations` here: Dagster reads the compute functions' annotations.



import dagster as dg

from turing_dagster import settings
from turing_dagster.dagster_defs.partitions import SCOPE_TAG, WAVES_TAG, wave_partitions
from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.store.admission import admit_pending
from turing_dagster.store.engine import StoreError
from turing_dagster.store.migrate import require_schema
from turing_dagster.store.standing import Scope
from turing_dagster.store.waves import store_token, unregistered_waves
from turing_dagster.workflows.spec import Workflow

ADOPT_AFTER_SECONDS = 120


def _interval_seconds() -> int:
    # a deployment may poll faster or slower; tests use 1 s
    return settings.sensor_interval_seconds()


def _default_status() -> dg.DefaultSensorStatus:
    # a team deployment (deploy/) starts its sensors without a click in the UI
    return dg.DefaultSensorStatus.RUNNING if settings.sensors_running() else dg.DefaultSensorStatus.STOPPED


def build_new_postings_sensor(workflow: Workflow) -> dg.SensorDefinition:
    """The sensor runs the workflow's job (same name) on the waves it admits."""
    partitions = wave_partitions(workflow.name)
    # new postings only: a sensor never re-processes results made under an earlier definition
    tags = {SCOPE_TAG: Scope().tag}

    @dg.sensor(
        name=f"{workflow.name}_new_postings",
        job_name=workflow.name,
        minimum_interval_seconds=_interval_seconds(),
        default_status=_default_status(),
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
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        # run the waves this tick admitted, and adopt those a dead tick admitted but never
        # registered; only after a while, since `turing run` registers its own a moment later
        orphans = unregistered_waves(engine, workflow.workflow_id, known, ADOPT_AFTER_SECONDS)
        to_run = sorted({*(w.key for w in admitted), *orphans})
        if not to_run:
            return dg.SkipReason(decision.reason)
        # the store's token in the run key: a reset database reuses w000001 and must still run
        token = store_token(engine, workflow.workflow_id)
        to_add = [key for key in to_run if key not in known]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{workflow.name}:{token}:{key}", partition_key=key, tags={WAVES_TAG: key, **tags}
                )
                for key in to_run
            ],
            dynamic_partitions_requests=[partitions.build_add_request(to_add)] if to_add else [],
        )

    return new_postings
