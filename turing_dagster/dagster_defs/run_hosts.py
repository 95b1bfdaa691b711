"""Which Ollama hosts a workflow's runs drive, as a run tag Dagster's run queue limits on.

Two runs on one host would swap each other's models in and out of GPU memory; runs on different
hosts should proceed together. Every run of a workflow with a model step carries the tag
`turing/ollama_hosts` (its normalised, sorted host list) and the instance's run queue admits one
run per distinct value (`tag_concurrency_limits` with `applyLimitPerUniqueValue`, see dagster.yaml).

A workflow can be pointed at its own hosts with `TURING_OLLAMA_HOSTS_<NAME>` (the workflow name in
upper case, anything not a letter or digit as `_`); otherwise its runs use `TURING_OLLAMA_HOSTS`,
then `OLLAMA_HOST`, as the `OllamaModels` resource does.
"""

from __future__ import annotations

import os
import re

from turing_dagster import settings
from turing_dagster.workflows.spec import Workflow

HOSTS_TAG = "turing/ollama_hosts"


def override_env(workflow_name: str) -> str:
    """The environment variable that points one workflow at its own Ollama hosts."""
    return "TURING_OLLAMA_HOSTS_" + re.sub(r"[^A-Z0-9]", "_", workflow_name.upper())


def own_hosts(workflow_name: str) -> str | None:
    """The workflow's own comma list of hosts, or None when it shares the default hosts."""
    return os.environ.get(override_env(workflow_name), "").strip() or None


def workflow_hosts(workflow_name: str) -> str:
    """The tag value: the hosts this workflow's runs drive, normalised, sorted, comma-joined.

    The same resolution as the `OllamaModels` resource (`settings.ollama_hosts`), from the workflow's
    own list when it has one.
    """
    own = own_hosts(workflow_name)
    try:
        hosts = settings.ollama_hosts(own)
    except ValueError:
        # a malformed entry: the run itself fails on it in one line; the tag must not break loading
        raw = own or os.environ.get("TURING_OLLAMA_HOSTS", "") or os.environ.get("OLLAMA_HOST", "")
        hosts = [h.strip() for h in raw.split(",") if h.strip()]
    return ",".join(sorted(set(hosts)))


def host_tags(workflow: Workflow) -> dict[str, str]:
    """Run tags for the queue; none for a workflow without a model step (it drives no host)."""
    if all(c.is_python for c in workflow.conversations):
        return {}
    return {HOSTS_TAG: workflow_hosts(workflow.name)}


def host_run_config(workflow: Workflow) -> dict | None:
    """Default run config pointing the run's `OllamaModels` at the workflow's own hosts, if it has any."""
    hosts = own_hosts(workflow.name)
    if hosts is None:
        return None
    return {"resources": {"ollama": {"config": {"host": hosts}}}}
