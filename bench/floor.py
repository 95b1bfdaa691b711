"""Dagster's floor: what a run costs Dagster itself, with nothing to do in its steps.

No-op assets (`--assets`; bench/suite.py gives the workflow's conversation count) in one multi-asset
(one Dagster step materializing each of them, as Turing's job runs a workflow's conversations),
partitioned by dynamic partitions as Turing's waves are, in one asset job run with `execute_in_process`
(the in-process executor, console logs at CRITICAL: as `turing run` runs its job) on the DAGSTER_HOME of
the environment. `--prepare` creates that instance's storage and exits, as `turing init` does before a
measured `turing run`; the measured process then registers one partition and materializes it: start-up
(interpreter, `import dagster`, definitions, the instance), the run's events, its compute-log capture.
`bench/suite.py` times the process; it prints its own seconds after the imports, for reference.

    DAGSTER_HOME=... python bench/floor.py [--prepare] [--assets 8]
"""

# No `from __future__ import annotations`: Dagster reads the assets' annotations.
import argparse
import json
import time

ASSETS = 8  # job_posting_pipeline's conversations
PARTITIONS = "floor_waves"


def build_job(n: int):  # -> dg.JobDefinition (dagster is imported late, after the clock starts)
    import dagster as dg

    partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS)
    specs = [dg.AssetSpec(f"step_{i}", deps=[f"step_{i - 1}"] if i else []) for i in range(n)]

    @dg.multi_asset(name="floor__steps", specs=specs, partitions_def=partitions)
    def steps():
        for spec in specs:  # one materialization per asset, as Turing yields one output per conversation
            yield dg.MaterializeResult(asset_key=spec.key)

    job = dg.define_asset_job("floor", selection=dg.AssetSelection.assets(steps))
    return dg.Definitions(assets=[steps], jobs=[job]).resolve_job_def("floor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="create the instance's storage only")
    parser.add_argument("--assets", type=int, default=ASSETS)
    args = parser.parse_args()
    import dagster as dg

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    if args.prepare:
        instance.get_dynamic_partitions(PARTITIONS)  # touches the run and event storage: their schemas exist
        return
    job = build_job(args.assets)
    instance.add_dynamic_partitions(PARTITIONS, ["w000001"])
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=instance, partition_key="w000001", raise_on_error=True,
    )
    print(json.dumps({"ok": result.success, "assets": args.assets, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
