"""Deterministic generator of the sample job postings (postings.jsonl and postings_sample.csv).

Run `python -m turing_dagster.sample_data.generate_postings` to rewrite both files next to this module,
or pass `--out-dir DIR` to write them elsewhere. The same seed always gives byte-identical files:
every choice comes from one `random.Random(seed)`, consumed in a fixed order, and nothing reads the clock.

Besides ordinary postings in many industries, seniorities and locations, the set deliberately holds the
inputs a posting pipeline meets in the wild: empty and whitespace-only descriptions, very long ones,
German, French and Spanish postings, HTML exports, text with braces that look like prompt placeholders,
emoji and other unicode, missing titles, disabled postings, reposts and scam-like postings.

The template data lives in templates.json and handwritten.json (loaded by catalog.py); drafts.py builds
postings from it, edge_cases.py adds the awkward ones, and render.py turns them into description text.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from turing_dagster.sample_data.catalog import FRENCH, GERMAN, ROLES, SPANISH  # noqa: F401 (re-exported)
from turing_dagster.sample_data.drafts import Draft, language_draft, make_draft
from turing_dagster.sample_data.edge_cases import edge_drafts
from turing_dagster.sample_data.render import render

SEED = 3001
TOTAL_POSTINGS = 250
CSV_ROWS = 10
HERE = Path(__file__).resolve().parent
JSONL_NAME = "postings.jsonl"
CSV_NAME = "postings_sample.csv"
CSV_COLUMNS = ("posting_id", "job_title", "job_description", "company")
EPOCH = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def _posted_at(rng: random.Random) -> str:
    moment = EPOCH + timedelta(days=rng.randint(0, 75), minutes=rng.randint(0, 12 * 60))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_record(rng: random.Random, draft: Draft) -> dict:
    description = draft.description
    if description is None:
        description = render(draft.blocks, draft.style, rng)
        if draft.source == "workday":
            description = description.replace("\n", "\r\n")  # Workday exports arrive with CRLF line ends
    record: dict = {"posting_id": None}
    title_key = draft.extras.get("_title_key")
    if title_key != "absent":
        record["job_title"] = draft.title
    record["job_description"] = description
    record.update(
        company=draft.company,
        location=draft.location,
        employment_type=draft.employment_type,
        salary_range=draft.salary_range,
        remote_policy=draft.remote_policy,
        posted_at=_posted_at(rng),
        source=draft.source,
    )
    if "enabled" in draft.extras:
        record["enabled"] = draft.extras["enabled"]
    return record


def _assign_ids(rng: random.Random, records: list[dict], prefix: str = "h") -> None:
    """Half the postings get text ids (h001, h002, ...), the others an outside system's numeric ids."""
    numeric = rng.sample(range(10000, 99999), len(records))
    counter = 0
    for record, number in zip(records, numeric, strict=True):
        if rng.random() < 0.5:
            counter += 1
            record["posting_id"] = f"{prefix}{counter:03d}"
        else:
            record["posting_id"] = str(number)


def build_postings(seed: int = SEED, total: int = TOTAL_POSTINGS) -> list[dict]:
    """All sample postings, deterministic for a given seed."""
    rng = random.Random(seed)
    drafts = edge_drafts(rng)
    reposts = 3
    # every role family at least twice, then a random mix up to the total
    ordinary: list[Draft] = []
    for role in ROLES:
        ordinary.append(make_draft(rng, role))
    for role in ROLES:
        ordinary.append(make_draft(rng, role))
    while len(drafts) + len(ordinary) < total - reposts:
        ordinary.append(make_draft(rng, rng.choice(ROLES)))
    drafts += ordinary
    records = [_to_record(rng, d) for d in drafts]
    # reposts: the same job advertised again a few weeks later, under a new id
    for original in rng.sample(records[-len(ordinary) :], reposts):
        again = dict(original)
        again["posted_at"] = _posted_at(rng)
        again["source"] = "company_careers_page"
        records.append(again)
    rng.shuffle(records)
    _assign_ids(rng, records)
    return records


def build_csv_rows(seed: int = SEED) -> list[dict]:
    """Ten plain postings for CSV loading demos: the core columns plus `company`."""
    rng = random.Random(seed + 1)
    picks = [r for r in ROLES if r.industry in ("software", "healthcare", "logistics", "hospitality", "finance")]
    rows: list[dict] = []
    for i in range(CSV_ROWS - 1):
        draft = make_draft(rng, picks[i % len(picks)], region_key="us")
        draft.style = rng.choice(("plain", "prose"))
        rows.append(
            {
                "job_title": draft.title,
                "job_description": render(draft.blocks, draft.style, rng),
                "company": draft.company,
            }
        )
    german = language_draft(rng, "de", GERMAN[2])
    rows.append(
        {"job_title": german.title, "job_description": render(german.blocks, "plain", rng), "company": german.company}
    )
    # a quoted phrase, so the CSV needs proper quoting
    rows[0]["job_description"] += '\n\nOur customers call us "the team that picks up the phone".'
    for i, row in enumerate(rows):
        row["posting_id"] = f"c{i + 1:03d}" if i % 3 else str(70000 + 37 * i)
    return [{col: row[col] for col in CSV_COLUMNS} for row in rows]


def to_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_outputs(out_dir: Path = HERE, seed: int = SEED) -> tuple[Path, Path]:
    """Write postings.jsonl and postings_sample.csv into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl_path, csv_path = out_dir / JSONL_NAME, out_dir / CSV_NAME
    jsonl_path.write_bytes(to_jsonl(build_postings(seed)).encode("utf-8"))
    csv_path.write_bytes(to_csv(build_csv_rows(seed)).encode("utf-8"))
    return jsonl_path, csv_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate Turing's sample job postings (deterministic).")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the files (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    jsonl_path, csv_path = write_outputs(args.out_dir, args.seed)
    count = sum(1 for _ in jsonl_path.open(encoding="utf-8"))
    print(f"wrote {count} postings to {jsonl_path} and {CSV_ROWS} rows to {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
