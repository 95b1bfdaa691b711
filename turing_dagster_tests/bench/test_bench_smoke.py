"""`make bench` in miniature: every part runs for real on a few postings; the tables' shape is checked and
their ratios computed, never their values (speed targets belong to the full bench, not to tests)."""

from __future__ import annotations

import json
import math

from bench import readme, suite
from bench.bare_loop import chats
from bench.table import BACKLOG_COLUMNS, EDIT_COLUMNS, HISTORY_COLUMNS, ORDER_COLUMNS, SLOT_COLUMNS


def _table(text: str, first_column: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_a_tiny_bench_writes_the_tables_and_the_json(tmp_path, monkeypatch):
    monkeypatch.delenv("TURING_BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("TURING_TEST_DATABASE_URL", raising=False)
    out = tmp_path / "results"
    suite.main(["--latencies", "0.001:3", "--repeat", "1", "--postings", "2", "--edit-postings", "2", "--edit-history", "3",
                "--history", "10", "--new", "1", "--backlog", "10", "--quick", "--history-repeat", "1",
                "--backlog-content", "0.5", "--load-seconds", "0.01", "--request-seconds", "0.001", "--out-dir", str(out)])
    result = json.loads((out / "bench.json").read_text())

    (slots,) = result["slots"]
    rows = {r["name"]: r for r in slots["rows"]}
    assert list(rows) == ["turing (sqlite)", "bare client loop", "Dagster floor", "ideal"]  # no PostgreSQL here
    assert rows["bare client loop"]["requests"] == rows["turing (sqlite)"]["requests"] == slots["llm_calls"] > 0
    summary = slots["sqlite"]
    assert all(math.isfinite(summary[k]) for k in ("own_seconds", "slot_use_turing", "slot_use_bare", "slot_use_ratio"))
    # one round: its own pairing is the table's
    assert slots["paired"]["slot_use_ratio"] == [summary["slot_use_ratio"]]
    assert slots["paired"]["median_own_seconds"] == summary["own_seconds"]
    assert rows["Dagster floor"]["dagster_event_rows"] > 0 and rows["turing (sqlite)"]["checkpoint_rows"] > 0

    order = {r["name"]: r for r in result["order"]["rows"]}
    assert list(order) == ["turing (sqlite)", "naive loop", "old grouping", "bare client loop", "ideal"]
    # the baselines render every turn of a chat, as Turing sends them: the same number of calls
    assert order["naive loop"]["requests"] == order["old grouping"]["requests"] == order["turing (sqlite)"]["requests"]

    small, large = result["edit"]["rows"]
    for edit in (small, large):
        assert edit["plain_run"]["calls"] == 0 and edit["plain_run"]["says_stale"]
        assert edit["calls_needed"] > 0 and math.isfinite(edit["ratio"])
    # postings without a description end before the edited step: the large history asks for the same work
    assert large["finished_postings"] == small["finished_postings"] + 3 and large["same_history_requests"]
    assert large["calls_needed"] == small["calls_needed"] and math.isfinite(large["stale_run"]["wall_over_small"])
    assert set(result["history"]["sizes"]) == {"10"} and set(result["backlog"]["sizes"]) == {"10"}

    table = (out / "bench.md").read_text()
    for first, columns, body in ((SLOT_COLUMNS[0], SLOT_COLUMNS, 1), (ORDER_COLUMNS[0], ORDER_COLUMNS, 5),
                                 (EDIT_COLUMNS[0], EDIT_COLUMNS, 2), (HISTORY_COLUMNS[0], HISTORY_COLUMNS, 1),
                                 (BACKLOG_COLUMNS[0], BACKLOG_COLUMNS, 1)):
        lines = _table(table, first)
        assert len(lines) == 2 + body and all(line.count("|") == len(columns) + 1 for line in lines)
    assert f"slot use turing/bare {summary['slot_use_ratio']:.3f} (median {summary['slot_use_ratio']:.3f})" in table


def test_readme_tables_are_replaced_between_their_markers_only(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "waves.json").write_text(json.dumps({
        "postings": 3, "one_wave": {"loads": 5, "requests": 9, "seconds": 1.0},
        "wave_per_posting": {"loads": 15, "requests": 9, "seconds": 4.0}, "load_ratio": 3.0, "time_ratio": 4.0}))
    page = tmp_path / "README.md"
    page.write_text("intro\n<!-- bench:waves -->\nold table\n<!-- /bench:waves -->\n"
                    "<!-- bench:hosts -->\nkept: no hosts.json\n<!-- /bench:hosts -->\nend\n")
    assert readme.update(page, results) == ["waves"]
    text = page.read_text()
    assert "old table" not in text and "| 3 | a wave per posting | 15 | 9 | 4.00 |" in text
    assert text.startswith("intro\n") and "kept: no hosts.json" in text and text.endswith("end\n")
    assert readme.update(page, results) == ["waves"] and page.read_text() == text  # regenerated in place, stable


def test_the_bare_loop_sends_a_chats_later_turn_after_its_earlier_one():
    system, first = {"role": "system", "content": "s"}, {"role": "user", "content": "turn 1"}
    turn1 = {"model": "m", "messages": [system, first]}
    turn2 = {"model": "m", "messages": [system, first, {"role": "assistant", "content": "a"},
                                        {"role": "user", "content": "turn 2"}]}
    other = {"model": "m", "messages": [system, {"role": "user", "content": "another posting"}]}
    assert chats([turn1, other, turn2]) == [[turn1, turn2], [other]]


def test_overhead_fit_splits_fixed_and_per_call_cost():
    from bench.overhead import fit

    fixed, per_call = fit([(100, 3.2), (400, 3.8), (100, 3.2), (400, 3.8)])
    assert math.isclose(fixed, 3.0) and math.isclose(per_call, 0.002)
    assert fit([(100, 3.0), (100, 4.0)]) == (3.5, 0.0)  # one size: no slope to fit
