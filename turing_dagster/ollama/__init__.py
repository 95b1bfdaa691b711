"""Turing's Ollama client layer: calls, retries, a host pool and per-step model sessions. No Dagster here."""
