"""One broken workflow file beside good ones: every other workflow keeps working."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from turing_dagster.definitions import build_definitions
from turing_dagster.store.engine import dispose_all
from turing_dagster_tests.unit.cli.test_cli import WORKFLOWS, turing

ROOT = Path(__file__).resolve().parents[3]
BROKEN = {
    "empty.yaml": "",
    "syntax.yaml": "name: x\nconversations: [\n",
    "invalid.yaml": "workflow_id: 77\nname: invalid\nconversations: []\n",
}


@pytest.fixture
def broken_dir(db_url, tmp_path, monkeypatch):
    target = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, target)
    for name, text in BROKEN.items():
        (target / name).write_text(text)
    monkeypatch.setenv("TURING_DATABASE_URL", db_url)
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(target))
    yield target
    dispose_all()


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


def test_cli_commands_for_good_workflows_work_with_one_line_per_broken_file(broken_dir, capsys, monkeypatch):
    code, out, err = turing(capsys, monkeypatch, "init")
    # the good ones synced and the instance made; the exit says init did not sync everything
    assert code == 2 and "synced workflow 9001 branchy" in out and "synced workflow 9002 pyonly" in out
    assert "dagster instance ready" in out and "no workflow definitions" not in out
    warned = _warnings(err)
    assert len(warned) == len(BROKEN) and all(any(name in w for w in warned) for name in BROKEN)
    assert err.strip().splitlines()[-1] == (f"error: {len(BROKEN)} workflow file(s) in {broken_dir} not synced (the "
                                            "warnings above name them); `turing validate` lists each error")
    assert "Traceback" not in err
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly")
    assert code == 0 and "01_clean" in out
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "nothing pending for pyonly" in out
    code, _, err = turing(capsys, monkeypatch, "validate")
    assert code == 2 and all(name in err for name in BROKEN)
    code, _, err = turing(capsys, monkeypatch, "run", "invalid")  # the broken one itself: why, not 'no workflow'
    assert code == 2 and "invalid.yaml" in err and "conversations: must not be empty" in err


def test_the_code_location_keeps_every_good_job_and_names_the_broken_file(broken_dir):
    defs = build_definitions()
    assert {defs.resolve_job_def(n).name for n in ("branchy", "pyonly")} == {"branchy", "pyonly"}
    assert defs.resolve_sensor_def("pyonly_new_postings") is not None
    sensor = defs.resolve_sensor_def("workflow_file_failed_syntax")
    assert "syntax.yaml" in sensor.description and "syntax error at line" in sensor.description
    with dg.build_sensor_context() as context:
        result = sensor(context)
    assert isinstance(result, dg.SkipReason) and "syntax.yaml: workflow: yaml: syntax error" in result.skip_message
    assert "is empty" in defs.resolve_sensor_def("workflow_file_failed_empty").description


def test_the_code_location_loads_in_a_fresh_process(broken_dir):
    # what `dagster dev` and `dagster job execute` do first; it exited 1 with a traceback before
    env = {"PYTHONPATH": str(ROOT), "TURING_WORKFLOWS_DIR": str(broken_dir), "PATH": "/usr/bin:/bin"}
    code = "from turing_dagster.definitions import defs; d = defs(); print(sorted(j.name for j in d.resolve_all_job_defs()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'branchy'" in done.stdout and "'pyonly'" in done.stdout
    assert len(_warnings(done.stderr)) == len(BROKEN) and "Traceback" not in done.stderr
