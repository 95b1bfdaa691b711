"""Turing: LLM workflows over job postings, processed in waves on Dagster."""
