"""Dagster tier: definitions, materialize and sensors on a temporary instance."""

from __future__ import annotations

import dagster as dg
import pytest


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst
