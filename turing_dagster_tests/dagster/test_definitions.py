"""What the definitions show a Dagster user: assets, lineage, code versions, jobs, sensors."""

from __future__ import annotations

import shutil
import socket

import dagster as dg
import ollama
import sqlalchemy as sa

from turing_dagster.definitions import build_definitions


def test_every_conversation_is_a_wave_partitioned_asset_in_plan_order(workflows_dir):
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "branchy"}
    assert keys == {
        "branchy/01_clean", "branchy/02_summarize", "branchy/03_grade", "branchy/04_improve",
        "branchy/05_pick", "branchy/06_score", "branchy/06_skills",
    }
    node = graph.get(dg.AssetKey(["branchy", "05_pick"]))
    assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
    assert node.partitions_def.name == "branchy_waves"
    # routing (grade and improve send postings to pick) and plan order (improve comes right before)
    assert {k.path[-1] for k in node.parent_keys} == {"03_grade", "04_improve"}
    score = graph.get(dg.AssetKey(["branchy", "06_score"]))
    assert {k.path[-1] for k in score.parent_keys} == {"05_pick"}
    skills = graph.get(dg.AssetKey(["branchy", "06_skills"]))
    # same execution order: siblings, not a chain; skills reads clean and is routed from pick
    assert {k.path[-1] for k in skills.parent_keys} == {"05_pick", "01_clean"}
    # the siblings are one multi-asset step, which orders them at run time (resident models first)
    assert defs.get_assets_def(skills.key) is defs.get_assets_def(score.key)
    assert defs.resolve_job_def("branchy").executor_def.name == "in_process"
    sensor = defs.resolve_sensor_def("branchy_new_postings")
    assert sensor.job_name == "branchy" and sensor.minimum_interval_seconds == 30


def test_editing_a_prompt_changes_only_that_code_version(workflows_dir, tmp_path, monkeypatch):
    before = {k: n.code_version for k, n in ((k, build_definitions().resolve_asset_graph().get(k)) for k in
              build_definitions().resolve_asset_graph().get_all_asset_keys())}
    edited = tmp_path / "wf"
    shutil.copytree(workflows_dir, edited)
    path = edited / "branchy.yaml"
    path.write_text(path.read_text().replace("Improve this summary", "Rewrite this summary"))
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(edited))
    graph = build_definitions().resolve_asset_graph()
    changed = {k.path[-1] for k in graph.get_all_asset_keys() if graph.get(k).code_version != before[k]}
    assert changed == {"04_improve"}


def test_building_definitions_opens_no_connection(workflows_dir, monkeypatch, tmp_path):
    # an unreachable database and Ollama: building must still succeed, since it only reads files
    monkeypatch.setenv("TURING_DATABASE_URL", "postgresql+psycopg2://nobody:x@127.0.0.1:1/none")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:1")
    def refuse(*args, **kwargs):
        raise AssertionError("building definitions opened a connection")

    monkeypatch.setattr(sa, "create_engine", refuse)
    monkeypatch.setattr(ollama.Client, "__init__", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    defs = build_definitions()
    job = defs.resolve_job_def("branchy")
    assert {k.path[-1] for k in job.asset_layer.selected_asset_keys} >= {"01_clean", "06_skills"}
