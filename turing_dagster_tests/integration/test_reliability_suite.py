"""The fast subset of `make reliability` (bench/reliability.py): real `turing` processes, SQLite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "bench" / "reliability.py"


@pytest.fixture(scope="module")
def reliability():
    spec = importlib.util.spec_from_file_location("turing_reliability", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("scenario", ["badfiles", "secrets"])
def test_fast_reliability_scenario(reliability, scenario):
    rows = reliability.run_scenarios([scenario], fast=True, dbs=["sqlite"])
    assert rows and all(r.outcome == "pass" for r in rows), reliability.table(rows)
