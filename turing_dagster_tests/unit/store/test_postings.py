"""Loading postings: JSONL and CSV, upsert, and whole-file rejection."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from turing_dagster.store.postings import (
    LoadResult,
    MissingField,
    PostingsFileError,
    missing_fields,
    read_postings,
    read_postings_file,
    upsert_postings,
)
from turing_dagster.store.schema import postings
from turing_dagster.workflows.loader import parse_workflow


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _all(engine):
    with engine.connect() as conn:
        return {r.posting_id: r for r in conn.execute(sa.select(postings))}


def test_jsonl_keeps_extra_fields_and_upserts(engine, tmp_path):
    f = _write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"posting_id": "h001", "job_title": "Nurse", "job_description": "Care.", "company": "Clinic", "salary": 5},
            {"posting_id": 48213, "job_title": "Driver", "job_description": "Drive.", "enabled": False},
        ],
    )
    assert upsert_postings(engine, read_postings_file(f)) == LoadResult(2, 0, 0)
    rows = _all(engine)
    assert rows["h001"].extra == {"company": "Clinic", "salary": 5}
    assert rows["h001"].enabled is True
    assert rows["48213"].enabled is False
    _write_jsonl(f, [{"posting_id": "h001", "job_title": "Senior Nurse", "job_description": "Care."}])
    assert upsert_postings(engine, read_postings_file(f)) == LoadResult(0, 1, 0)
    rows = _all(engine)
    assert rows["h001"].job_title == "Senior Nurse"
    assert rows["48213"].enabled is False  # untouched by a file that does not mention it


def test_csv_rows_load_with_extra_columns(engine, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("posting_id,job_title,job_description,enabled,city\nc1,Cook,Cooks.,false,Berlin\nc2,Baker,,,Paris\n")
    upsert_postings(engine, read_postings_file(f))
    rows = _all(engine)
    assert rows["c1"].enabled is False and rows["c1"].extra == {"city": "Berlin"}
    assert rows["c2"].enabled is True and rows["c2"].job_description == ""


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ('{"posting_id": "a"}\n{"job_title": "no id"}\n', ".jsonl", "p.jsonl:2: posting_id is missing"),
        ('{"posting_id": "a"}\n{not json}\n', ".jsonl", "p.jsonl:2: invalid JSON"),
        ('{"posting_id": "a"}\n{"posting_id": "a"}\n', ".jsonl", "p.jsonl:2: posting_id 'a' already on line 1"),
        ('{"posting_id": "a", "enabled": "maybe"}\n', ".jsonl", "p.jsonl:1: enabled must be true or false"),
        ('{"posting_id": "a", "job_title": ["x"]}\n', ".jsonl", "p.jsonl:1: job_title must be text"),
        ('[1, 2]\n', ".jsonl", "p.jsonl:1: expected an object"),
        ("job_title\nx\n", ".csv", "p.csv:1: the CSV header has no posting_id column"),
        ("posting_id,job_title\na,x\n,y\n", ".csv", "p.csv:3: posting_id is missing"),
        ("posting_id\na\n", ".txt", "unknown file type .txt"),
        # short and long rows, a column named twice, ids of the wrong type
        ("posting_id,job_title,city\na,x,Paris\nb,y\n", ".csv", "p.csv:3: 2 value(s) for the 3 header columns"),
        ("posting_id,job_title\na,x\nb,y,z\n", ".csv", "p.csv:3: more values than the 2 header columns"),
        # a row is named by its first line: after a blank line, a value over two lines, an unclosed quote
        ("posting_id,job_title\n\na,\"two\nlines\"\nb\n", ".csv", "p.csv:5: 1 value(s) for the 2 header columns"),
        ("posting_id,job_title\na,x\nb,\"unclosed\nc,z\n", ".csv", "p.csv:3: unreadable CSV row: unexpected end of data"),
        ("posting_id,job_title,job_title\na,x,y\n", ".csv", "p.csv:1: the CSV header names column(s) twice: job_title"),
        ('{"posting_id": 12.5}\n', ".jsonl", "p.jsonl:1: posting_id must be text or a whole number, not float 12.5"),
        ('{"posting_id": true}\n', ".jsonl", "p.jsonl:1: posting_id must be text or a whole number, not bool True"),
    ],
)
def test_a_bad_row_rejects_the_whole_file(engine, tmp_path, content, suffix, expected):
    f = tmp_path / f"p{suffix}"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(PostingsFileError) as err:
        read_postings_file(f)
    assert expected in str(err.value)
    assert _all(engine) == {}


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(PostingsFileError, match="no such file"):
        read_postings_file(tmp_path / "nope.jsonl")


def test_a_directory_is_named_as_one(tmp_path):
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(PostingsFileError, match="is a directory"):
        read_postings_file(tmp_path / "d.jsonl")


@pytest.mark.parametrize(
    ("raw", "suffix", "expected"),
    [
        (b'{"posting_id": "a", "job_description": "x\\u0000y"}\n', ".jsonl", "p.jsonl:1: job_description contains a NUL"),
        (b'{"posting_id": "a", "job_title": "\\ud800"}\n', ".jsonl", "p.jsonl:1: job_title contains an invalid character"),
        (b'{"posting_id": "a", "pay": NaN}\n', ".jsonl", "p.jsonl:1: invalid JSON: NaN is not a JSON value"),
        (b'{"posting_id": "a", "deep": ' + b"[" * 100000 + b"]" * 100000 + b"}\n", ".jsonl", "p.jsonl:1: JSON nested too deeply"),
        (b'{"posting_id": "a", "meta": {"k": "\\u0000"}}\n', ".jsonl", "p.jsonl:1: meta.k contains a NUL"),
        (b"posting_id,job_title\n" + b'a,"unterminated\n', ".csv", "p.csv"),
        (b"\xff\xfeposting_id\n", ".jsonl", "p.jsonl: not UTF-8 text"),
    ],
)
def test_odd_content_is_one_line_naming_file_line_and_field(engine, tmp_path, raw, suffix, expected):
    f = tmp_path / f"p{suffix}"
    f.write_bytes(raw)
    with pytest.raises(PostingsFileError) as err:
        read_postings_file(f)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_csv_from_a_spreadsheet_with_bom_and_a_huge_field_loads(engine, tmp_path):
    f = tmp_path / "p.csv"
    long_text = "word " * 60000  # 300 KB, above the csv module's default field limit
    f.write_bytes("\ufeffposting_id,job_description\r\nb1,".encode() + f'"{long_text}"\r\n'.encode())
    upsert_postings(engine, read_postings_file(f))
    assert len(_all(engine)["b1"].job_description) == len(long_text)


def test_changed_content_starts_the_posting_over_and_unchanged_keeps_its_results(engine):
    from turing_dagster.store.checkpoints import Checkpoint, write_chunk
    from turing_dagster.store.waves import admit, pending_summary

    base = [{"posting_id": p, "job_title": "Nurse", "job_description": "Care.", "extra": {"ward": 3}} for p in ("a", "b")]
    upsert_postings(engine, base)
    admit(engine, 1, 10)
    write_chunk(engine, 1, [Checkpoint(p, 7, "completed", "sum", None) for p in ("a", "b")],
                posting_updates=[(p, "extracted_summary", "sum") for p in ("a", "b")])
    again = [dict(base[0]), {**base[1], "extra": {"ward": 4}}]
    assert upsert_postings(engine, again) == LoadResult(0, 1, 1)
    rows = _all(engine)
    assert rows["a"].extracted_summary == "sum" and rows["b"].extracted_summary is None
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT posting_id FROM posting_state_checkpoints")).scalars().all()
    assert left == ["a"]
    assert pending_summary(engine, 1)[0] == 1  # b waits for a new wave


def test_the_fields_of_a_file_are_its_csv_header_or_any_jsonl_records_keys(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("posting_id,job_title,Team\nc1,,\n")
    assert read_postings(f).fields == {"posting_id", "job_title", "Team"}  # an empty column is still there
    f = _write_jsonl(tmp_path / "p.jsonl", [{"posting_id": "a", "city": None}, {"posting_id": "b", "team": "x"}])
    assert read_postings(f).fields == {"posting_id", "city", "team"}


def test_missing_fields_are_core_columns_and_prompt_fields_no_fallback_covers():
    workflow, errors = parse_workflow({"workflow_id": 1, "name": "w", "conversations": [
        {"conversation_id": 1, "name": "clean", "execution_order": 1, "actor": "python:m.x:f"},
        {"conversation_id": 2, "name": "summ", "execution_order": 2, "actor": "gemma3:4b",
         "system": "About {posting.company}.",
         "prompt": "{posting.team} {posting.salary|posting.pay} {posting.city|clean} {clean} {posting.job_title}",
         "instructions": None},
        {"conversation_id": 3, "name": "chat", "execution_order": 3, "actor": "gemma2",
         "instructions": [{"prompt": "{posting.team} and {posting.level}"}]},
    ]})
    assert errors == []
    found = missing_fields({"posting_id", "job_title", "job_descripton", "compnay", "pay"}, [workflow])
    assert found == [
        MissingField("job_description", "job_descripton", {"w": ["clean's actor"]}),
        MissingField("company", "compnay", {"w": ["summ's system"]}),
        MissingField("team", None, {"w": ["summ's prompt", "chat's instructions[0].prompt"]}),
        MissingField("level", None, {"w": ["chat's instructions[0].prompt"]}),
    ]  # salary: pay stands in; city: the clean output does; job_title is there
    assert [m.field for m in missing_fields({"posting_id"}, [])] == ["job_title", "job_description"]
    everything = {"posting_id", "job_title", "job_description", "company", "team", "level", "salary", "city"}
    assert missing_fields(everything, [workflow]) == []
