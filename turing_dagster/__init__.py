"""Turing: LLM workflows over job postings, processed in waves on Dagster. Its definitions are in
`turing_dagster.definitions` (`dagster ... -m turing_dagster.definitions`, workspace.yaml)."""
