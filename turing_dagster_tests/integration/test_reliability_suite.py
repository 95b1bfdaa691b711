"""The fast subset of `make reliability` (reliability/): real `turing` processes, SQLite."""

from __future__ import annotations

import pytest

from reliability.suite import run_scenarios, table


@pytest.mark.parametrize("scenario", ["badfiles", "secrets"])
def test_fast_reliability_scenario(scenario):
    rows = run_scenarios([scenario], fast=True, dbs=["sqlite"])
    assert rows and all(r.outcome == "pass" for r in rows), table(rows)
