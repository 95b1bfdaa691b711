"""Everything that imports Dagster: partitions, the per-workflow factory, IO manager, resources, runs."""
