"""A conversation over a wave: who arrives, the Python and the LLM side, results in chunks. No Dagster here."""
