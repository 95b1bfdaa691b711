"""Inputs that used to be accepted silently: a postings file without a field a workflow reads, a bad
numeric setting for `turing run`."""

from __future__ import annotations

import pytest

from turing_dagster_tests.conftest import WORKFLOWS
from turing_dagster_tests.unit.cli.test_cli import env, turing  # noqa: F401  (env is a fixture)


@pytest.fixture
def team_workflows(tmp_path, monkeypatch):
    """The test workflows, branchy's summary also reading {posting.team}."""
    folder = tmp_path / "wf"
    folder.mkdir()
    (folder / "pyonly.yaml").write_text((WORKFLOWS / "pyonly.yaml").read_text())
    branchy = (WORKFLOWS / "branchy.yaml").read_text().replace("Summarise this posting: {clean}",
                                                                "Summarise this {posting.team} posting: {clean}")
    (folder / "branchy.yaml").write_text(branchy)
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(folder))
    return folder


# what is checked here does not depend on the store's database
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_a_misspelt_column_loads_with_one_warning_per_missing_field(env, team_workflows, capsys, monkeypatch,  # noqa: F811
                                                                     tmp_path):
    turing(capsys, monkeypatch, "init")
    f = tmp_path / "postings.csv"
    f.write_text("posting_id,job_title,job_descripton,teams\nc1,Cook,Cooks soup.,kitchen\n")
    code, out, err = turing(capsys, monkeypatch, "postings", "load", str(f))
    assert code == 0 and "1 new" in out
    assert err.splitlines() == [
        f"warning: {f} has no job_description field (did you mean job_descripton?); "
        "branchy reads it (clean's actor, pick's actor); pyonly reads it (clean's actor, risky's actor, tail's actor)",
        f"warning: {f} has no team field (did you mean teams?); branchy reads it (summarize's prompt)",
    ]


def test_a_jsonl_file_counts_a_field_any_record_has(env, team_workflows, capsys, monkeypatch, tmp_path):  # noqa: F811
    turing(capsys, monkeypatch, "init")
    f = tmp_path / "p.jsonl"
    f.write_text('{"posting_id": "a", "job_title": "Cook", "job_description": "Cooks."}\n'
                 '{"posting_id": "b", "team": "ops"}\n')
    code, _, err = turing(capsys, monkeypatch, "postings", "load", str(f))
    assert code == 0 and err == ""  # every field is in some record: nothing to say
    f.write_text('{"posting_id": "a", "job_description": "Cooks.", "team": "ops"}\n')
    code, _, err = turing(capsys, monkeypatch, "postings", "load", str(f))
    # only Python actors may read job_title here: branchy's prompt falls back to posting_id
    assert code == 0 and err.splitlines() == [
        f"warning: {f} has no job_title field; branchy reads it (clean's actor, pick's actor); "
        "pyonly reads it (clean's actor, risky's actor, tail's actor)"]


@pytest.mark.parametrize(
    ("var", "raw", "expected"),
    [("TURING_CHUNK_SIZE", "0", "TURING_CHUNK_SIZE must be a whole number >= 1, not '0'"),
     ("TURING_CHUNK_SIZE", "abc", "TURING_CHUNK_SIZE must be a whole number >= 1, not 'abc'"),
     ("TURING_CHUNK_SIZE", "-1", "TURING_CHUNK_SIZE must be a whole number >= 1, not '-1'"),
     ("TURING_SENSOR_INTERVAL_SECONDS", "-1",
      "TURING_SENSOR_INTERVAL_SECONDS must be a whole number of seconds >= 1, not '-1'"),
     ("TURING_OLLAMA_REQUEST_TIMEOUT", "0", "TURING_OLLAMA_REQUEST_TIMEOUT must be a number of seconds > 0, not '0'")],
)
def test_turing_run_with_a_bad_number_is_one_line_and_exit_2(env, workflows_dir, capsys, monkeypatch, var, raw,  # noqa: F811
                                                              expected):
    turing(capsys, monkeypatch, "init")
    monkeypatch.setenv(var, raw)
    code, out, err = turing(capsys, monkeypatch, "run", "pyonly")
    assert (code, err, out) == (2, f"error: {expected}\n", "")
