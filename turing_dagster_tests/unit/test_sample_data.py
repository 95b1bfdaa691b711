"""The bundled sample postings: size, ids, variety, edge cases, and a deterministic generator."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from turing_dagster.sample_data import generate_postings as gen

DATA_DIR = Path(gen.__file__).resolve().parent
JSONL = DATA_DIR / "postings.jsonl"
CSV = DATA_DIR / "postings_sample.csv"
PROJECT_ROOT = DATA_DIR.parent.parent


@pytest.fixture(scope="module")
def postings() -> list[dict]:
    with JSONL.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _descriptions(postings: list[dict]) -> list[str]:
    return [p["job_description"] for p in postings]


def _count_words(text: str, words: str) -> int:
    return len(re.findall(rf"\b(?:{words})\b", text))


def test_enough_postings_with_unique_text_ids(postings):
    assert len(postings) == 250
    ids = [p["posting_id"] for p in postings]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids)
    text_ids = [i for i in ids if re.fullmatch(r"h\d{3}", i)]
    numeric_ids = [i for i in ids if re.fullmatch(r"\d{5}", i)]
    assert len(text_ids) >= 50 and len(numeric_ids) >= 50
    assert len(text_ids) + len(numeric_ids) == len(ids)


def test_every_posting_has_the_core_and_extra_fields(postings):
    for p in postings:
        assert isinstance(p["job_description"], str)
        for key in ("company", "location", "employment_type", "salary_range", "posted_at", "source"):
            assert key in p, (p["posting_id"], key)
        assert re.fullmatch(r"2025-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["posted_at"])


def test_postings_are_varied(postings):
    titles = {p.get("job_title") for p in postings}
    assert len(titles) >= 100
    assert len({p["company"] for p in postings}) >= 30
    assert len({p["location"] for p in postings}) >= 40
    assert len({p["employment_type"] for p in postings}) >= 5
    joined = " | ".join(t for t in titles if t)
    industries = {
        "software": "Engineer|Developer",
        "data": "Data |Analyst|Scientist",
        "nursing": "Nurse|Nursing",
        "logistics": "Warehouse|Driver|Forklift|Picker|Logistics|Dispatcher",
        "finance": "Accountant|Financial|Payroll|Accounts|Controller|AML|KYC|Audit",
        "teaching": "Teacher|Teaching|Educator|Tutor|Instructor",
        "hospitality": "Cook|Chef|Server|Bartender|Barista|Front Desk|Concierge|Hotel|Restaurant",
        "manufacturing": "Machinist|Operator|Welder|Assembly|Maintenance|Quality",
        "sales": "Account Executive|Sales|Business Development|Account Manager",
        "legal": "Paralegal|Legal|Counsel|Attorney|Lawyer|Contract",
        "trades": "Electrician|HVAC|Plumber|Carpenter",
        "care": "Support Worker|Care|Social Worker|Case Manager|Home Health",
    }
    for industry, pattern in industries.items():
        assert len(re.findall(pattern, joined)) >= 3, industry
    for level in ("Junior ", "Senior ", "Lead ", "Manager"):
        assert level in joined, level


def test_edge_case_descriptions_are_present(postings):
    descriptions = _descriptions(postings)
    assert sum(d == "" for d in descriptions) >= 3
    assert sum(d != "" and not d.strip() for d in descriptions) >= 3
    assert sum(len(d) > 12_000 for d in descriptions) >= 3
    html = [d for d in descriptions if "<p>" in d or "<p " in d]
    assert len(html) >= 5
    assert sum("<ul><li>" in d for d in html) >= 5
    assert sum("&amp;" in d for d in html) >= 3
    assert sum("\r\n" in d for d in descriptions) >= 2


@pytest.mark.parametrize(
    "language, words",
    [("de", "und|mit|für|Sie|wir"), ("fr", "vous|nous|avec|les|des"), ("es", "para|con|los|las|del")],
)
def test_non_english_postings_are_present(postings, language, words):
    matches = [d for d in _descriptions(postings) if _count_words(d, words) >= 5]
    assert len(matches) >= 3, language


@pytest.mark.parametrize("text", ["{posting.job_title}", "{gemma3_extract}", '{"salary": 5}', "{{template}}"])
def test_brace_texts_that_look_like_placeholders_are_present(postings, text):
    assert sum(text in d for d in _descriptions(postings)) >= 2


def test_emoji_and_unicode_are_present(postings):
    emoji = [d for d in _descriptions(postings) if any(ord(ch) >= 0x1F300 for ch in d)]
    assert len(emoji) >= 3
    assert any("ü" in p["location"] or "é" in p["location"] for p in postings)


def test_missing_titles_and_disabled_postings_are_present(postings):
    assert sum("job_title" not in p for p in postings) == 2
    assert sum("job_title" in p and p["job_title"] is None for p in postings) == 2
    assert sum(p.get("enabled") is False for p in postings) == 4
    assert all(p.get("enabled", True) in (True, False) for p in postings)


def test_csv_sample_has_ten_rows_with_core_columns_plus_one():
    with CSV.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["posting_id", "job_title", "job_description", "company"]
    assert len(rows) == 10
    assert len({r["posting_id"] for r in rows}) == 10
    assert all(r["job_title"] and len(r["job_description"]) > 200 for r in rows)
    assert any("\n" in r["job_description"] for r in rows)
    assert any('"' in r["job_description"] for r in rows)


def test_csv_ids_do_not_collide_with_jsonl_ids(postings):
    with CSV.open(encoding="utf-8", newline="") as f:
        csv_ids = {r["posting_id"] for r in csv.DictReader(f)}
    assert not csv_ids & {p["posting_id"] for p in postings}


def test_build_is_deterministic_in_process():
    assert gen.to_jsonl(gen.build_postings()) == gen.to_jsonl(gen.build_postings())
    assert gen.build_postings(seed=1) != gen.build_postings(seed=2)


def test_regenerating_gives_byte_identical_files(tmp_path):
    # a different hash seed in a fresh interpreter: nothing may depend on set or dict-of-str iteration order
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run(
        [sys.executable, "-m", "turing_dagster.sample_data.generate_postings", "--out-dir", str(tmp_path)],
        check=True,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
    )
    assert (tmp_path / "postings.jsonl").read_bytes() == JSONL.read_bytes()
    assert (tmp_path / "postings_sample.csv").read_bytes() == CSV.read_bytes()
