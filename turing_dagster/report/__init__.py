"""Reports drawn from a run's own records (no Dagster here): the GPU timeline."""
