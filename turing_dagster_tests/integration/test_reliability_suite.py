"""The fast subset of `make reliability` (reliability/): real `turing` processes, SQLite."""

from __future__ import annotations

import pytest

from reliability.suite import run_scenarios, table


@pytest.mark.parametrize("scenario", ["badfiles", "secrets"])
def test_fast_reliability_scenario(scenario):
    rows = run_scenarios([scenario], fast=True, dbs=["sqlite"])
    assert rows and all(r.outcome == "pass" for r in rows), table(rows)


def test_a_full_run_rewrites_only_the_readme_table(tmp_path):
    from reliability.harness import Row
    from reliability.suite import BEGIN, END, write_readme

    path = tmp_path / "README.md"
    path.write_text(f"intro\n{BEGIN}\nthe old table\n{END}\nafter\n")
    rows = [Row("hung server", "sqlite", 4, 0, 0, 0, "pass", "show on http://127.0.0.1:41234 failed", 3.0),
            Row("kill", "postgres", 9, 1, 0, 0, "FAIL", "lost one", 7.0)]
    write_readme(rows, 120, path)
    text = path.read_text()
    assert text.startswith(f"intro\n{BEGIN}\n") and text.endswith(f"{END}\nafter\n") and "old table" not in text
    assert "2 rows on sqlite, postgres: 1 pass, 1 FAIL; 2 minutes in all." in text
    assert "http://127.0.0.1:PORT" in text and "41234" not in text  # a rerun changes only what changed
    write_readme(rows, 120, path)
    assert path.read_text() == text
