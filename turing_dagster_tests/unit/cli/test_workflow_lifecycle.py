"""A workflow's lifecycle as a user meets it: its file removed, re-created under its name
with a new workflow_id, the old one retired, its conversation ids reused by another file."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.schema import conversations
from turing_dagster_tests.conftest import WORKFLOWS
from turing_dagster_tests.unit.cli.test_cli import turing

HELD = "`turing run pyonly --retry-failed` retries them"


@pytest.fixture
def wf(db_url, monkeypatch, tmp_path):
    """A workflows directory of our own (branchy, pyonly), synced, with pyonly run over 8 postings (one fails)."""
    target = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, target)
    monkeypatch.setenv("TURING_DATABASE_URL", db_url)
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(target))
    yield target
    dispose_all()


def _run_pyonly(capsys, monkeypatch, tmp_path, n: int = 8) -> None:
    assert turing(capsys, monkeypatch, "init")[0] == 0
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps({"posting_id": f"y{i}", "job_description": "d" * 30}) + "\n" for i in range(n)))
    assert turing(capsys, monkeypatch, "postings", "load", str(f))[0] == 0
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "1 posting step(s) failed" in out  # y7: the test actor raises for ids ending in 7


def _recreated(wf, workflow_id: int = 9012, base: int | None = 951) -> str:
    """pyonly.yaml copied under a new workflow_id (and, with `base`, conversation ids of its own)."""
    text = (WORKFLOWS / "pyonly.yaml").read_text().replace("workflow_id: 9002", f"workflow_id: {workflow_id}")
    for i in range(3) if base is not None else ():
        text = text.replace(f"conversation_id: {921 + i}", f"conversation_id: {base + i}")
    (wf / "pyonly2.yaml").write_text(text)
    return str(wf / "pyonly2.yaml")


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0].removeprefix("error: ")


def test_a_removed_workflows_history_reads_from_the_database(wf, capsys, monkeypatch, tmp_path):
    _run_pyonly(capsys, monkeypatch, tmp_path)
    before = {args: turing(capsys, monkeypatch, "status", *args)[1]
              for args in (("pyonly", "--json"), ("pyonly", "--posting", "y7", "--json"), ("pyonly",))}
    qa_before = turing(capsys, monkeypatch, "qa", "pyonly", "--json")[1]
    assert HELD in before[("pyonly",)]
    (wf / "pyonly.yaml").unlink()
    note = f"note: the definition file of pyonly ({wf}/pyonly.yaml) is gone; showing its history as last synced"
    for name in ("pyonly", "9002"):
        for args, out in before.items():
            code, now, err = turing(capsys, monkeypatch, "status", name, *args[1:])
            assert code == 0 and err.strip() == note
            # the `turing run` hints are left out: it cannot run
            assert now == (out.replace(f"1 posting(s) are held by a failed step; {HELD}\n", "") if len(args) == 1 else out)
    assert HELD not in turing(capsys, monkeypatch, "status", "pyonly")[1]
    code, out, err = turing(capsys, monkeypatch, "qa", "pyonly", "--json")
    assert code == 0 and out == qa_before and err.strip() == note
    code, out, err = turing(capsys, monkeypatch, "monitor", "9002", "--once")
    assert code == 0 and "admitted 8, finished 7" in out and err.strip() == note
    for command in ("run", "report"):
        code, _, err = turing(capsys, monkeypatch, command, "pyonly")
        assert code == 2 and _one_error(err) == (
            f"the definition file of pyonly ({wf}/pyonly.yaml) is gone, and this command needs a workflow defined "
            "by a file: `turing status 9002` shows its history; putting its definition file back runs it again"
        )
    code, out, _ = turing(capsys, monkeypatch, "workflows", "list")
    assert code == 0 and [line.split()[:5] for line in out.splitlines()[1:]] == [
        ["9001", "branchy", "present", "-", "0"], ["9002", "pyonly", "gone", "-", "23"]]


def test_a_recreated_workflow_runs_once_the_old_one_is_retired(wf, capsys, monkeypatch, tmp_path):
    _run_pyonly(capsys, monkeypatch, tmp_path)
    history = turing(capsys, monkeypatch, "status", "9002", "--json")[1]
    new_file = _recreated(wf)
    taken = (f"{new_file}: workflow: name: 'pyonly' already belongs to workflow_id 9002 in the database "
             "(its history stays there); `turing workflows retire 9002` frees the name")
    # beside the old file the new one is a duplicate name: the loader says so; without it, the database does
    (wf / "pyonly.yaml").rename(tmp_path / "pyonly.yaml")
    for command in (["init"], ["run", "pyonly"]):
        code, _, err = turing(capsys, monkeypatch, *command)
        assert code == 2 and _one_error(err) == taken
    # the old file back, defining 9002 again: retiring it is refused
    (tmp_path / "pyonly.yaml").rename(wf / "pyonly.yaml")
    code, _, err = turing(capsys, monkeypatch, "workflows", "retire", "9002")
    assert code == 2 and _one_error(err).startswith(f"workflow 9002 (pyonly) is still defined by {wf}/pyonly.yaml: ")
    (wf / "pyonly.yaml").unlink()
    code, out, _ = turing(capsys, monkeypatch, "workflows", "retire", "pyonly")  # by name: the stored one
    assert code == 0 and out.startswith("retired workflow 9002 (pyonly): the name 'pyonly' is free")
    code, out, _ = turing(capsys, monkeypatch, "workflows", "retire", "9002")
    assert code == 0 and "was retired already" in out
    assert turing(capsys, monkeypatch, "init")[0] == 0
    code, out, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "admitted 8 pending postings" in out and "Traceback" not in err
    code, out, err = turing(capsys, monkeypatch, "status", "9002", "--json")
    assert code == 0 and out == history and err.startswith("note: workflow 9002 (pyonly) was retired on ")
    assert turing(capsys, monkeypatch, "status", "pyonly~9002", "--json")[1] == history
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly", "--json")
    assert json.loads(out)["workflow_id"] == 9012 and json.loads(out)["finished"] == 7
    code, _, err = turing(capsys, monkeypatch, "run", "9002")
    assert code == 2 and _one_error(err).endswith(
        "this command needs a workflow defined by a file: `turing status 9002` shows its history")
    code, out, _ = turing(capsys, monkeypatch, "workflows", "list", "--json")
    listed = {r["workflow_id"]: (r["name"], r["file_state"], r["checkpoints"], bool(r["retired_at"]))
              for r in json.loads(out)}
    assert listed == {9001: ("branchy", "present", 0, False), 9002: ("pyonly~9002", "gone", 23, True),
                      9012: ("pyonly", "present", 23, False)}


def test_conversation_ids_of_another_workflow_are_refused(wf, capsys, monkeypatch, db_url):
    assert turing(capsys, monkeypatch, "init")[0] == 0
    text = (WORKFLOWS / "pyonly.yaml").read_text().replace("workflow_id: 9002", "workflow_id: 9100")
    (wf / "other.yaml").write_text(text.replace("name: pyonly", "name: other").replace("name: clean", "name: scrub")
                                   .replace("conversation_id: 922", "conversation_id: 982")
                                   .replace("conversation_id: 923", "conversation_id: 983"))
    (wf / "pyonly.yaml").unlink()  # its conversation ids stay its own, file or not
    refused = (f"{wf}/other.yaml: conversation 'scrub': conversation_id: 921 belongs to workflow 9002 (pyonly) "
               "in the database; give this conversation an id of its own")
    for command in (["init"], ["run", "other"]):
        code, out, err = turing(capsys, monkeypatch, *command)
        assert code == 2 and _one_error(err) == refused
    with get_engine(db_url).connect() as conn:
        assert conn.execute(sa.select(conversations.c.canonical_name, conversations.c.workflow_id)
                            .where(conversations.c.conversation_id == 921)).one() == ("clean", 9002)


def test_retired_names_and_broken_files_in_lookups(wf, capsys, monkeypatch):
    assert turing(capsys, monkeypatch, "init")[0] == 0
    (wf / "pyonly.yaml").write_text("workflow_id: 9002\nname: pyonly\nconversations: []\n")
    # its file is there but broken: what is wrong with it, not its history
    code, _, err = turing(capsys, monkeypatch, "status", "9002")
    assert code == 2 and "pyonly.yaml: workflow: conversations: must not be empty" in err and "note:" not in err
    code, _, err = turing(capsys, monkeypatch, "workflows", "retire", "9002")
    assert code == 2 and _one_error(err) == (
        f"{wf}/pyonly.yaml, the definition file of workflow 9002 (pyonly), does not load, so it may still define "
        f"it: fix or remove it first (`turing validate {wf}/pyonly.yaml`)")
    (wf / "pyonly.yaml").unlink()
    assert turing(capsys, monkeypatch, "workflows", "retire", "9002")[0] == 0
    code, _, err = turing(capsys, monkeypatch, "status", "pyonly")
    assert code == 2 and _one_error(err) == (
        "no workflow 'pyonly'; pyonly was retired as workflow_id 9002; known: branchy (9001); "
        "history only: 9002 (pyonly, retired)")
    code, _, err = turing(capsys, monkeypatch, "workflows", "retire", "nope")
    assert code == 2 and _one_error(err) == (
        "no workflow 'nope' in the database; known: 9001 (branchy), 9002 (pyonly, retired)")


def test_workflows_list_before_init_says_so(wf, capsys, monkeypatch):
    code, _, err = turing(capsys, monkeypatch, "workflows", "list")
    assert code == 1 and _one_error(err).endswith("run `turing init` first")


def test_a_workflows_dir_that_moved_is_named_not_the_file(wf, capsys, monkeypatch, tmp_path):
    _run_pyonly(capsys, monkeypatch, tmp_path)
    elsewhere = tmp_path / "no-such-folder"
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(elsewhere))  # the file is where it was: the setting changed
    code, _, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 2 and err.strip().splitlines()[-1].startswith(
        f"error: the definition file of pyonly ({wf}/pyonly.yaml) is not in TURING_WORKFLOWS_DIR ({elsewhere}, a "
        "folder that does not exist), and this command needs a workflow defined by a file")
