"""`make bench` in miniature: every variant runs for real on a few postings; the table's shape is checked
and its ratios computed, never their values (speed targets belong to the full bench, not to tests)."""

from __future__ import annotations

import json
import math

from bench import suite
from bench.table import COLUMNS


def test_a_tiny_bench_writes_the_table_and_the_json(tmp_path, monkeypatch):
    monkeypatch.delenv("TURING_BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("TURING_TEST_DATABASE_URL", raising=False)
    out = tmp_path / "results"
    suite.main(["--postings", "2", "--history", "10,20", "--new", "1", "--backlog", "10", "--quick", "--history-repeat", "1",
                "--backlog-content", "0.5", "--load-seconds", "0.01", "--request-seconds", "0.001", "--out-dir", str(out)])
    result = json.loads((out / "bench.json").read_text())
    rows = {r["name"]: r for r in result["side_by_side"]["rows"]}
    assert list(rows) == ["turing (sqlite)", "naive loop", "old grouping", "bare client loop", "ideal"]
    assert "PostgreSQL not measured" in result["side_by_side"]["notes"][0]
    for row in rows.values():
        assert math.isfinite(row["wall_over_ideal"]) and math.isfinite(row["wall_over_bare"])
    turing = rows["turing (sqlite)"]
    assert turing["checkpoint_rows"] > 0 and turing["dagster_event_rows"] > 0 and turing["peak_rss_mb"] > 0
    assert rows["bare client loop"]["requests"] == turing["requests"] == result["side_by_side"]["llm_calls"] > 0
    assert set(result["history"]["sizes"]) == {"10", "20"} and set(result["backlog"]["sizes"]) == {"10"}
    table = (out / "bench.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| variant"))
    assert header.count("|") == len(COLUMNS) + 1
    assert sum(line.startswith("| ") and not line.startswith("| variant") for line in table.splitlines()) >= 5 + 2 + 1
    assert "new postings on 20 vs 10 history:" in table


def test_overhead_fit_splits_fixed_and_per_call_cost():
    from bench.overhead import fit

    fixed, per_call = fit([(100, 3.2), (400, 3.8), (100, 3.2), (400, 3.8)])
    assert math.isclose(fixed, 3.0) and math.isclose(per_call, 0.002)
    assert fit([(100, 3.0), (100, 4.0)]) == (3.5, 0.0)  # one size: no slope to fit
