"""Waves as Dagster dynamic partitions, one partitions definition per workflow, and the run tags naming them."""

from __future__ import annotations

from functools import cache

import dagster as dg

PARTITION = "dagster/partition"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
SCOPE_TAG = "turing/scope"  # what a run re-processes besides new work (store/standing.py Scope.tag)
WAVES_TAG = "turing/waves"  # the waves a run covers, where the runs list shows it


@cache
def wave_partitions(workflow_name: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{workflow_name}_waves")


def waves_label(start: str, end: str) -> str:
    return start if start == end else f"{start}..{end}"
