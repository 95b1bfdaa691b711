"""Waves as Dagster dynamic partitions, one partitions definition per workflow."""

from __future__ import annotations

from functools import cache

import dagster as dg


@cache
def wave_partitions(workflow_name: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{workflow_name}_waves")
