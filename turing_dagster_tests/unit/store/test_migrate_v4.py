"""Schema version 4 carries a real version-3 database over: owners for conversations,
retired_at for workflows, every row intact, `turing status` and the old debugging query still reading it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from turing_dagster.store.checkpoints import Checkpoint
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import current_version, upgrade
from turing_dagster.store.schema import SCHEMA_VERSION
from turing_dagster.workflows.loader import load_workflow_file
from turing_dagster.workflows.plan import WorkflowPlan
from turing_dagster.workflows.spec import Workflow
from turing_dagster_tests.integration.test_debug_query_postgres import OLD_DEBUG_QUERY
from turing_dagster_tests.unit.cli.test_cli import turing
from turing_dagster_tests.unit.store import schema_v3 as v3

DEFS = Path(__file__).resolve().parents[3] / "workflow_defs"
PIPELINE = load_workflow_file(DEFS / "job_posting_pipeline.yaml")


def _definition(wf: Workflow) -> dict:
    return wf.model_dump(mode="json", by_alias=True, exclude={"source_file"})


def _v3_database(engine: sa.Engine, gone: str) -> None:
    """What a version-3 Turing left: job_posting_pipeline (3001, its file since removed) with checkpoints,
    and `copycat` (3002), synced later, which reused 3342 and so relabelled it."""
    v3.metadata.create_all(engine)
    # the checkpoints carry the versions schema 3 stamped: `turing init` re-stamps them (sync)
    versions = WorkflowPlan(PIPELINE).legacy_versions()
    early, late = (datetime(2024, m, 1, tzinfo=timezone.utc) for m in (1, 2))
    with engine.begin() as conn:
        conn.execute(sa.insert(v3.schema_version), [{"version": v} for v in (1, 2, 3)])
        conn.execute(sa.insert(v3.postings), [
            {"posting_id": f"p{i}", "job_title": "t", "job_description": "d", "enabled": i != 7, "extra": {}}
            for i in range(8)])
        conn.execute(sa.insert(v3.workflows), [
            {"workflow_id": 3001, "name": PIPELINE.name, "source_file": gone, "definition": _definition(PIPELINE),
             "updated_at": early},
            {"workflow_id": 3002, "name": "copycat", "source_file": "copycat.yaml", "definition": None,
             "updated_at": late},
        ])
        named = {c.conversation_id: c for c in PIPELINE.conversations}
        conn.execute(sa.insert(v3.conversations), [
            {"conversation_id": cid, "canonical_name": "copy_score" if cid == 3342 else c.name, "actor": c.actor,
             "conversation_type": "python" if c.is_python else "llm", "code_version": "v"}
            for cid, c in named.items()
        ] + [{"conversation_id": cid, "canonical_name": name, "actor": "a", "conversation_type": "llm", "code_version": None}
             for cid, name in ((5001, "copy_more"), (4000, "edited_out"))])
        conn.execute(sa.insert(v3.workflow_conversations), [
            {"workflow_id": 3001, "conversation_id": c.conversation_id, "execution_order": c.execution_order}
            for c in PIPELINE.conversations
        ] + [{"workflow_id": 3002, "conversation_id": cid, "execution_order": n} for n, cid in ((1, 3342), (2, 5001))])

        def cp(pid: str, conv: int, nxt: int | None, status: str = "completed") -> dict:
            return Checkpoint(pid, conv, status, "x", nxt, versions[conv], "w000001").row(3001)

        # p0-p2 (and the disabled p7) failed at 3335, p3-p6 went on to 3336; the debugging query counts them
        conn.execute(sa.insert(v3.posting_state_checkpoints), [
            cp(f"p{i}", 3334, 3340) for i in range(8)] + [cp(f"p{i}", 3340, 3335) for i in range(8)] + [
            cp(f"p{i}", 3335, 3335, "failed") for i in (0, 1, 2, 7)] + [cp(f"p{i}", 3335, 3336) for i in range(3, 7)])


def _dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every v3 column of every data table, as the frozen schema sees them (checkpoints' versions aside:
    schema 5 re-stamps them)."""
    with engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(
                    sa.select(*(c for c in t.c if not (t.name == "posting_state_checkpoints" and c.name == "code_version")))))
                for t in v3.metadata.sorted_tables if t is not v3.schema_version}


def test_a_version_3_database_upgrades_with_its_history_intact(db_url, tmp_path, capsys, monkeypatch):
    engine = get_engine(db_url)
    gone = str(tmp_path / "gone" / "job_posting_pipeline.yaml")
    _v3_database(engine, gone)
    before = _dump(engine)
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        with engine.connect() as conn:
            query_before = conn.execute(sa.text(OLD_DEBUG_QUERY)).all()
    assert upgrade(engine) == (3, SCHEMA_VERSION)
    assert upgrade(engine) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert _dump(engine) == before
    with engine.connect() as conn:  # results of the unchanged definition are current under today's versions
        stamped = set(conn.execute(sa.select(v3.posting_state_checkpoints.c.conversation_id,
                                             v3.posting_state_checkpoints.c.code_version)).all())
    assert stamped == {(s.conversation.conversation_id, s.version) for s in WorkflowPlan(PIPELINE).steps
                       if s.conversation.conversation_id in {c for c, _ in stamped}}
    with engine.connect() as conn:
        assert current_version(conn) >= 4
        owners = dict(conn.execute(sa.text("SELECT conversation_id, workflow_id FROM conversations")).all())
        retired = conn.execute(sa.text("SELECT count(*) FROM workflows WHERE retired_at IS NOT NULL")).scalar_one()
    # each linked row goes to its workflow; 3342, linked to both, to the one whose name it carries
    # (copycat synced last); a row no definition links any more stays unowned
    assert owners == {**{c.conversation_id: 3001 for c in PIPELINE.conversations}, 3342: 3002, 5001: 3002, 4000: None}
    assert retired == 0
    if postgres:
        with engine.connect() as conn:
            assert conn.execute(sa.text(OLD_DEBUG_QUERY)).all() == query_before == [
                ("gemma3_extract", 3, 3), ("gemma2_grade", 4, 4)]

    monkeypatch.setenv("TURING_DATABASE_URL", db_url)
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    code, out, err = turing(capsys, monkeypatch, "status", "3001", "--json")
    assert code == 0 and err.startswith(f"note: the definition file of job_posting_pipeline ({gone}) is gone")
    steps = {s["conversation_id"]: (s["completed"], s["failed"]) for s in json.loads(out)["steps"]}
    assert steps[3334] == (8, 0) and steps[3335] == (4, 4)
    # the file back: the row copycat relabelled is copycat's now, and sync says so
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(DEFS))
    code, _, err = turing(capsys, monkeypatch, "init")
    assert code == 2 and err.strip() == (
        f"error: {DEFS}/job_posting_pipeline.yaml: conversation 'gemma2_ihl_score': conversation_id: 3342 "
        "belongs to workflow 3002 (copycat) in the database; give this conversation an id of its own")


@pytest.mark.parametrize("step", [1, 2, 3])
def test_a_database_at_any_earlier_version_reaches_the_latest(db_url, step):
    # migration 1 is create_all of today's metadata: every later step must find its work done already
    engine = get_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM turing_schema_version WHERE version > {step}"))
    assert upgrade(engine) == (step, SCHEMA_VERSION)
