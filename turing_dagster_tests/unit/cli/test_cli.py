"""The `turing` console script as a user meets it: one line per mistake, exit codes, idempotent init."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from turing_dagster import settings
from turing_dagster.cli import main
from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.schema import conversations, postings, workflow_conversations, workflows
from turing_dagster_tests.conftest import WORKFLOWS


@pytest.fixture
def env(db_url, monkeypatch, tmp_path, workflows_dir):
    monkeypatch.setenv("TURING_DATABASE_URL", db_url)
    yield db_url
    dispose_all()


def turing(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def _init_with_postings(capsys, monkeypatch, tmp_path, prefix: str, n: int) -> None:
    """`turing init`, then `n` postings `<prefix>0`.. loaded from a JSONL file."""
    turing(capsys, monkeypatch, "init")
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps({"posting_id": f"{prefix}{i}", "job_description": "d" * 30}) + "\n" for i in range(n)))
    turing(capsys, monkeypatch, "postings", "load", str(f))


def _count(url, table):
    with get_engine(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_init_is_idempotent_and_resyncs_an_edit(env, capsys, monkeypatch, tmp_path):
    code, out, _ = turing(capsys, monkeypatch, "init")
    assert code == 0 and "schema created" in out and "synced workflow 9001 branchy" in out
    assert turing(capsys, monkeypatch, "init")[1].startswith("schema up to date")
    assert (_count(env, workflows), _count(env, conversations), _count(env, workflow_conversations)) == (2, 10, 10)
    edited = tmp_path / "wf"
    edited.mkdir()
    (edited / "b.yaml").write_text((WORKFLOWS / "branchy.yaml").read_text().replace("name: grade", "name: grader")
                                    .replace("{grade}", "{grader}").replace("goto: grade", "goto: grader"))
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(edited))
    assert turing(capsys, monkeypatch, "init")[0] == 0
    with get_engine(env).connect() as conn:
        name = conn.execute(sa.select(conversations.c.canonical_name).where(conversations.c.conversation_id == 903)).scalar()
    assert name == "grader" and _count(env, conversations) == 10


def test_commands_before_init_say_so_in_one_line(env, capsys, monkeypatch, tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"posting_id": "a"}\n')
    code, _, err = turing(capsys, monkeypatch, "postings", "load", str(f))
    assert code == 1 and err.startswith("error: ") and err.strip().endswith("run `turing init` first")
    assert len(err.strip().splitlines()) == 1


def test_a_bad_postings_file_is_rejected_whole_with_its_line(env, capsys, monkeypatch, tmp_path):
    turing(capsys, monkeypatch, "init")
    f = tmp_path / "p.jsonl"
    f.write_text('{"posting_id": "a", "job_title": "ok"}\n\n{"job_title": "no id"}\n')
    code, _, err = turing(capsys, monkeypatch, "postings", "load", str(f))
    assert code == 2 and err.strip() == f"error: {f}:3: posting_id is missing or empty"
    assert "Traceback" not in err and _count(env, postings) == 0
    f.write_text('{"posting_id": "a", "job_title": "ok", "team": "ops"}\n')
    code, out, _ = turing(capsys, monkeypatch, "postings", "load", str(f))
    assert code == 0 and "1 new" in out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["run", "nope"], 2, "no workflow 'nope'; known: branchy (9001), pyonly (9002)"),
        (["status", "404"], 2, "no workflow '404'"),
        (["run", "branchy", "--wave-size", "0"], 2, "error: Invalid value for '--wave-size'"),
        (["run", "branchy", "--wave-size", "abc"], 2, "error: Invalid value for '--wave-size'"),
        (["validate", "/does/not/exist.yaml"], 2, "/does/not/exist.yaml"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
    ],
)
def test_user_mistakes_are_one_line_and_nonzero(env, capsys, monkeypatch, args, code, needle):
    turing(capsys, monkeypatch, "init")
    got, out, err = turing(capsys, monkeypatch, *args)
    assert got == code and needle in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1, err


def test_status_json_and_posting_trail(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "x", 3)
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly", "--json")
    data = json.loads(out)
    assert code == 0 and data["not_admitted"] == 3 and [s["step"] for s in data["steps"]] == ["01_clean", "02_risky", "03_tail"]
    code, _, err = turing(capsys, monkeypatch, "status", "pyonly", "--posting", "x1")
    assert code == 1 and err.strip() == "error: posting 'x1' has no checkpoints in pyonly yet"
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "admitted 3 pending postings into 1 new wave(s): w000001" in out
    # the command that shows the runs, whole on one line, on the instance the runs are in
    home = tmp_path / "dagster_home"
    assert f"`DAGSTER_HOME={home} dagster dev -w {settings.workspace_file()}` shows them" in out.splitlines()[-1]
    assert settings.workspace_file().exists()
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly", "--posting", "x1", "--json")
    assert [(e["conversation"], e["reused"]) for e in json.loads(out)] == [
        ("clean", False), ("risky", False), ("tail", False)]  # Python steps: no stored answer
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly")
    header = next(line for line in out.splitlines() if "completed" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")][-6:] == [
        "completed", "skipped", "failed", "pending", "stale", "reused"]
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "nothing pending for pyonly" in out


def test_failed_postings_wait_for_retry_failed(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "y", 9)
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "1 posting step(s) failed" in out  # y7: the test actor raises for ids ending in 7
    (line,) = [x for x in out.splitlines() if x.startswith("failed: ")]  # one line naming it, where and why
    assert line.startswith("failed: posting y7 at risky: ")
    held = "1 posting(s) are held by a failed step; `turing run pyonly --retry-failed` retries them"
    assert held in out
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 0 and "nothing pending" in out and held in out  # the plain run says why and how
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly")
    assert code == 0 and held in out
    code, out, _ = turing(capsys, monkeypatch, "status", "pyonly", "--json")
    assert (json.loads(out)["held_by_failures"], json.loads(out)["failed_retryable"]) == (1, 0)
    code, out, _ = turing(capsys, monkeypatch, "run", "pyonly", "--retry-failed")
    assert code == 0 and "running pyonly on wave w000001" in out and "1 posting step(s) failed" in out


def test_monitor_once_prints_the_step_table(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "m", 4)
    turing(capsys, monkeypatch, "run", "pyonly")
    code, out, _ = turing(capsys, monkeypatch, "monitor", "pyonly", "--once")
    lines = [line for line in out.splitlines() if "03_tail" in line]
    assert code == 0 and len(lines) == 1 and lines[0].split("│")[4].strip() == "4"  # completed
    assert "admitted 4, finished 4, waiting for a wave 0" in out


def test_plan_counts_postings_not_in_a_wave_and_a_bad_host_list_admits_nothing(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "n", 3)
    code, out, _ = turing(capsys, monkeypatch, "plan", "pyonly", "--json")
    data = json.loads(out)
    # a run admits them first: the plan walks them as new postings at the first step
    assert code == 0 and (data["postings"], data["not_admitted"], data["steps"][0]["pending"]) == (3, 3, 3)
    code, out, _ = turing(capsys, monkeypatch, "plan", "pyonly")
    assert "plan: 3 posting(s)" in out and "3 of them not in a wave yet" in out
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "a,,b")
    code, _, err = turing(capsys, monkeypatch, "run", "branchy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "an empty entry" in err
    _, out, _ = turing(capsys, monkeypatch, "status", "branchy", "--json")
    assert json.loads(out)["not_admitted"] == 3  # refused before a wave was admitted
    code, out, err = turing(capsys, monkeypatch, "run", "pyonly")  # Python steps drive no host: it runs
    assert code == 0 and "admitted 3 pending postings" in out, err
    _, out, _ = turing(capsys, monkeypatch, "plan", "pyonly", "--json")
    assert json.loads(out)["not_admitted"] == 0


def test_a_store_that_cannot_be_opened_is_one_line_naming_it(capsys, monkeypatch, tmp_path, workflows_dir):
    state = tmp_path / "state"
    state.mkdir()
    (state / "turing.db").write_text("not a database, only text: a file copied over it by mistake\n")
    (tmp_path / "p.jsonl").write_text('{"posting_id": "a"}\n')
    for args in (["status", "branchy"], ["init"], ["postings", "load", str(tmp_path / "p.jsonl")]):
        code, out, err = turing(capsys, monkeypatch, *args)
        assert code == 1 and err.strip() == (
            f"error: {state / 'turing.db'} is not a SQLite database (file is not a database): move it aside and run "
            "`turing init`, or point TURING_STATE_DIR or TURING_DATABASE_URL elsewhere"), (args, err)
    monkeypatch.setenv("TURING_STATE_DIR", str(state / "turing.db"))  # a file where the folder should be
    code, _, err = turing(capsys, monkeypatch, "init")
    assert code == 1 and err.strip().startswith(
        f"error: cannot create the folder of the SQLite database {state / 'turing.db' / 'turing.db'}: ")
    assert len(err.strip().splitlines()) == 1


def test_a_relative_dagster_home_is_refused_before_anything_is_written(capsys, monkeypatch, tmp_path, workflows_dir):
    monkeypatch.chdir(tmp_path)
    refused = "error: DAGSTER_HOME=relative-home: must be an absolute path, e.g. DAGSTER_HOME=$PWD/relative-home"
    monkeypatch.setenv("DAGSTER_HOME", "relative-home")
    code, _, err = turing(capsys, monkeypatch, "init")
    assert code == 1 and err.strip() == refused
    assert not (tmp_path / "relative-home").exists() and not (tmp_path / "state").exists()  # nor the store
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert turing(capsys, monkeypatch, "init")[0] == 0
    monkeypatch.setenv("DAGSTER_HOME", "relative-home")
    code, _, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 1 and err.strip() == refused and not (tmp_path / "relative-home").exists()


def test_try_names_postings_the_store_does_not_have(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "t", 2)
    for given, why in (("t0,nosuch,t1", "no posting nosuch in the store"), (",", "no posting ids given")):
        code, out, err = turing(capsys, monkeypatch, "try", "branchy", "summarize", "--postings", given)
        assert code == 2 and out == "" and err.strip() == (
            f"error: Invalid value for --postings: {why} (see `turing try --help`)"), err


def test_a_python_actor_that_cannot_be_called_is_refused_before_a_wave(env, capsys, monkeypatch, tmp_path):
    _init_with_postings(capsys, monkeypatch, tmp_path, "a", 2)
    defs = tmp_path / "defs"
    defs.mkdir()
    text = (WORKFLOWS / "pyonly.yaml").read_text()
    first, second = [line.split("actor: ")[1] for line in text.splitlines() if "actor: python:" in line][:2]
    (defs / "pyonly.yaml").write_text(text.replace(first, first + "_typo").replace(second, "python:os:sep"))
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(defs))
    module = first.removeprefix("python:").split(":")[0]
    expected = [f"{defs}/pyonly.yaml: conversation 'clean': actor: cannot import {first.removeprefix('python:')}_typo "
                f"(AttributeError: module '{module}' has no attribute '{first.rsplit(':', 1)[1]}_typo')",
                f"{defs}/pyonly.yaml: conversation 'risky': actor: os:sep is a str, not a function"]
    code, out, err = turing(capsys, monkeypatch, "validate")  # where the actors may live elsewhere: warnings
    assert code == 0 and err.strip().splitlines() == ["warning: " + line for line in expected]
    code, out, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 2 and out == "" and err.strip().splitlines() == ["error: " + expected[0], expected[1]]
    _, out, _ = turing(capsys, monkeypatch, "status", "pyonly", "--json")
    assert json.loads(out)["not_admitted"] == 2  # no wave was admitted


def test_status_says_when_the_database_keeps_the_name_under_another_workflow_id(env, capsys, monkeypatch, tmp_path):
    turing(capsys, monkeypatch, "init")
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "pyonly.yaml").write_text((WORKFLOWS / "pyonly.yaml").read_text().replace("workflow_id: 9002",
                                                                                      "workflow_id: 9012"))
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(defs))
    for command in ("status", "plan"):
        code, _, err = turing(capsys, monkeypatch, command, "pyonly")
        assert code == 0 and f"note: {defs}/pyonly.yaml gives 'pyonly' workflow_id 9012; the database keeps that " \
            "name's history as workflow_id 9002 (`turing status 9002`), and `turing run pyonly` says how to " \
            "resolve it" in err.splitlines()
    code, _, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "put back `workflow_id: 9002`" in err


def test_a_group_without_its_command_prints_its_help(capsys, monkeypatch):
    for args in ([], ["workflows"], ["postings"]):
        code, out, err = turing(capsys, monkeypatch, *args)
        assert code == 0 and err == "" and out.startswith(f"Usage: {' '.join(['turing', *args])} [OPTIONS] COMMAND")
