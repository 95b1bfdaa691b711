"""Dagster tier: definitions, materialize and sensors on a temporary instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

WORKFLOWS = Path(__file__).resolve().parent / "workflows"


@pytest.fixture
def workflows_dir(monkeypatch) -> Path:
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(WORKFLOWS))
    return WORKFLOWS


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst
