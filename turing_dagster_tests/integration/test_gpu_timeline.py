"""The GPU timeline's Dagster side: each step keeps the model manager's call records in its run record, the
run's last step draws the PNG and shows it on its materializations' pages, `turing report` redraws it.

The records here are made by the test (a model manager that makes one load and one chat per session),
so this covers the wiring whatever recording the `ollama/` layer does; the steps themselves run for real
over HTTP against the simulator.
"""

from __future__ import annotations

import time
from itertools import pairwise

import dagster as dg
import pytest
from pydantic import PrivateAttr

from turing_dagster.cli import main
from turing_dagster.dagster_defs.assets import IO_MANAGER_KEY
from turing_dagster.dagster_defs.factory import build_workflow_assets
from turing_dagster.dagster_defs.gpu_timeline import FILE_KEY, METADATA_KEY, report_path, run_events
from turing_dagster.dagster_defs.io_manager import CheckpointIOManager
from turing_dagster.dagster_defs.resources import OllamaModels, TuringStore
from turing_dagster.ollama.records import CallRecord
from turing_dagster.store.waves import admit
from turing_dagster.workflows.plan import WorkflowPlan, asset_name
from turing_dagster_tests.integration.helpers import make_postings, run, workflow

pytestmark = pytest.mark.usefixtures("workflows_dir")
# the picture reads the run's step records: the first test covers them on PostgreSQL, these on SQLite only
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PNG = b"\x89PNG\r\n\x1a\n"


class MadeUpRecords(OllamaModels):
    """The real model manager, plus call records the test makes: a load and a chat per session."""

    _made: list = PrivateAttr(default_factory=list)

    def session(self, model, options=None, workflow=None):
        now = time.time()
        self._made += [
            CallRecord(self.host, model, "load", now, now + 0.01),
            CallRecord(self.host, model, "chat", now + 0.01, now + 0.02, key=f"made-{len(self._made)}"),
        ]
        return super().session(model, options, workflow)

    def drain_call_records(self) -> list[CallRecord]:
        made, self._made = self._made, []
        return made


def _materialize(engine, instance, sim, db_url, **kwargs) -> dg.ExecuteInProcessResult:
    store = TuringStore(database_url=db_url)
    resources = {"store": store, "ollama": MadeUpRecords(host=sim.url), IO_MANAGER_KEY: CheckpointIOManager(store=store)}
    return dg.materialize(build_workflow_assets(WorkflowPlan(workflow())), instance=instance, resources=resources,
                          **kwargs)


def _admit(engine, instance, n=12):
    make_postings(engine, n)
    waves = [w.key for w in admit(engine, 9001, 100)]
    instance.add_dynamic_partitions("branchy_waves", waves)
    return waves


def test_each_step_logs_its_calls_and_the_last_one_draws_the_linked_png(engine, instance, sim, db_url):
    (wave,) = _admit(engine, instance)
    result = _materialize(engine, instance, sim, db_url, partition_key=wave)
    assert result.success
    plan = WorkflowPlan(workflow())
    events = run_events(engine, plan, result.run_id)
    order = [s.conversation.name for s in plan.steps]
    names = [e["conversation"] for e in events]
    assert names == order  # every step recorded, in plan order
    for e in events:
        step = plan.by_name[e["conversation"]]
        assert e["step_start"] <= e["step_end"]
        if step.model:  # an LLM step drained exactly its session's records
            assert [(c["kind"], c["model"], c["host"]) for c in e["calls"]] == [
                ("load", step.model, sim.url), ("chat", step.model, sim.url)
            ]
        else:
            assert e["calls"] == []
    assert all(a["step_end"] <= b["step_start"] for a, b in pairwise(events))
    path = report_path(instance, result.run_id)
    assert path.read_bytes()[:8] == PNG
    shown = {ev.event_specific_data.materialization.asset_key.path[-1]: ev.event_specific_data.materialization.metadata
             for ev in result.get_asset_materialization_events()}
    last = list(shown)[-1]  # the run's last conversation (siblings may go in either order)
    assert [name for name, meta in shown.items() if METADATA_KEY in meta] == [last]  # drawn once, at the end
    picture = shown[last][METADATA_KEY].value
    assert picture.startswith("![GPU timeline: branchy") and "](data:image/png;base64,iVBORw0KGgo" in picture
    assert shown[last][FILE_KEY].value == str(path)


@SQLITE_ONLY
def test_a_run_of_one_selected_asset_draws_its_picture_at_that_step(engine, instance, sim, db_url):
    (wave,) = _admit(engine, instance, 6)
    assert _materialize(engine, instance, sim, db_url, partition_key=wave).success
    plan = WorkflowPlan(workflow())
    key = dg.AssetKey(["branchy", asset_name(plan.by_name["grade"].conversation)])
    again = _materialize(engine, instance, sim, db_url, partition_key=wave, selection=[key])
    assert again.success
    assert [e["conversation"] for e in run_events(engine, plan, again.run_id)] == ["grade"]
    assert report_path(instance, again.run_id).read_bytes()[:8] == PNG


@SQLITE_ONLY
def test_turing_report_draws_a_run_on_demand_and_names_bad_input(engine, instance, sim, tmp_path, capsys):
    make_postings(engine, 6)
    with pytest.raises(SystemExit) as none_yet:
        main(["report", "branchy"])
    assert none_yet.value.code == 1 and "no run of branchy" in capsys.readouterr().err
    report = run(engine, instance)  # the workflow's own job, as `turing run` runs it
    assert report.ok, report.failures
    (run_id,) = report.run_ids
    assert report_path(instance, run_id).read_bytes()[:8] == PNG  # drawn by the run itself
    report_path(instance, run_id).unlink()
    main(["report", "branchy"])
    out = capsys.readouterr().out
    assert run_id in out and str(report_path(instance, run_id)) in out
    target = tmp_path / "pictures" / "t.png"
    main(["report", "9001", "--run", run_id[:8], "--out", str(target)])
    assert str(target) in capsys.readouterr().out and target.read_bytes()[:8] == PNG
    for argv, expected in [
        (["report", "branchy", "--run", "ffffffff"], "--run ffffffff: no such run of branchy"),
        (["report", "branchy", "--out", str(tmp_path / "t.svg")], "does not end in .png"),
        (["report", "nope"], "no workflow 'nope'"),
    ]:
        with pytest.raises(SystemExit) as failed:
            main(argv)
        err = capsys.readouterr().err
        assert failed.value.code != 0 and expected in err and err.count("\n") == 1, err
