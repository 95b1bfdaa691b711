"""Postings and checks shared by the workflow-run tests."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from turing_dagster.dagster_defs.runner import run_workflow
from turing_dagster.definitions import build_definitions
from turing_dagster.ollama.calls import normalize_model
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.workflows.loader import load_workflows
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.routing import next_after

TEXTS = [
    "We are hiring a Python developer to build data pipelines with SQL and Airflow. You will work with analysts.",
    "Registered nurse for our cardiology ward. Patient care, medication management and teamwork required.",
    "Warehouse associate: forklift operation, inventory counts, and shipping. Night shifts available.",
    "Template engineer: our docs use {posting.job_title} and {summarize} and {\"salary\": 5} and {{x}} literally.",
    "Buchhalter (m/w/d) gesucht: Finanzbuchhaltung, Monatsabschluss, DATEV. Wir bieten flexible Arbeitszeiten.",
    "",
    "Sales manager 2024: grow accounts in 3 regions, CRM discipline, negotiation and forecasting skills.",
]


def make_postings(engine, n: int, prefix: str = "p") -> list[str]:
    records = [
        {
            "posting_id": f"{prefix}{i:03d}",
            "job_title": None if i % 11 == 3 else f"Role {i}",
            "job_description": TEXTS[i % len(TEXTS)],
            "extra": {"company": f"Company {i % 5}"},
        }
        for i in range(n)
    ]
    upsert_postings(engine, records)
    return [r["posting_id"] for r in records]


def edit_workflows(source: Path, target: Path, monkeypatch, old: str, new: str) -> Path:
    """A copy of the test workflows with one edit in branchy.yaml, made the active definitions."""
    shutil.copytree(source, target)
    path = target / "branchy.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(target))
    return target


def forget_waves(instance, *workflows: str) -> None:
    """Drop the workflows' wave partitions: a PostgreSQL instance outlives a test."""
    for wf in workflows:
        for key in instance.get_dynamic_partitions(f"{wf}_waves"):
            instance.delete_dynamic_partition(f"{wf}_waves", key)


def workflow(name: str = "branchy"):
    return next(w for w in load_workflows() if w.name == name)


def run(engine, instance, wave_size: int = 1000, name: str = "branchy", scope=None):
    wf = workflow(name)
    job = build_definitions().resolve_job_def(name)
    return run_workflow(engine, wf, job, instance, wave_size, echo=lambda _: None, scope=scope)


def rows(engine, workflow_id: int = 9001) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(sa.select(psc).where(psc.c.workflow_id == workflow_id).order_by(psc.c.checkpoint_id)).all()


def llm_calls(sim) -> Counter:
    """(model, posting id) -> chat requests the simulator received, read from the prompts' ID line."""
    calls: Counter = Counter()
    for body in sim.requests():
        text = " ".join(m.get("content", "") for m in body.get("messages", []))
        found = re.search(r"ID: (\S+)", text)
        if found:
            calls[(body["model"], found.group(1))] += 1
    return calls


def minimal_loads(plan: WorkflowPlan, engine, since_checkpoint: int = 0, resident: str | None = None) -> int:
    """Loads the plan needs: one per maximal run of consecutive LLM steps on one model that did work
    (none for the first run of them when its model is `resident` already: shared residency keeps it)."""
    worked = {r.conversation_id for r in rows(engine, plan.workflow.workflow_id)
              if r.checkpoint_id > since_checkpoint and r.status != "skipped" and (r.attempts or 0) > 0}
    loads, current = 0, (normalize_model(resident) if resident else None)
    for step in plan.steps:
        if step.model and step.conversation.conversation_id in worked:
            if normalize_model(step.model) != current:
                loads += 1
            current = normalize_model(step.model)
    return loads


def assert_routed_by_rules(plan: WorkflowPlan, engine, posting_ids: list[str]) -> None:
    """Every posting walked exactly the path its `next` rules give, with a skipped row everywhere else."""
    by_posting: dict[str, dict[int, sa.Row]] = {}
    for r in rows(engine, plan.workflow.workflow_id):
        assert (r.conversation_id not in by_posting.get(r.posting_id, {})), "duplicate checkpoint"
        by_posting.setdefault(r.posting_id, {})[r.conversation_id] = r
    for pid in posting_ids:
        trail = by_posting[pid]
        expected = plan.steps[0].conversation.name
        for step in plan.steps:
            conv = step.conversation
            row = trail[conv.conversation_id]
            if conv.name == expected:
                assert row.status == "completed", (pid, conv.name, row.status, row.error)
                expected = next_after(plan.workflow, conv.name, row.output)
                nxt = plan.by_name[expected].conversation.conversation_id if expected else None
                assert row.state_snapshot["current_conversation_id"] == nxt
            else:
                assert row.status == "skipped", (pid, conv.name, row.status)
        assert expected is None, f"{pid} did not reach END"
