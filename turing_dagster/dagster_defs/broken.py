"""A workflow file that does not load, shown in the UI as a sensor named for it.

The code location must still load with every good workflow, so a broken file cannot raise; a sensor
is what the UI lists per code location with a description and a tick message, so it carries the error.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from turing_dagster.workflows.broken import broken_file_line, errors_by_file
from turing_dagster.workflows.loader import WorkflowError


def _sensor_name(file: str, taken: set[str]) -> str:
    base = "workflow_file_failed_" + (re.sub(r"[^A-Za-z0-9_]", "_", Path(file).stem) or "unnamed")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def broken_file_sensors(errors: list[WorkflowError]) -> list[dg.SensorDefinition]:
    """One always-skipping sensor per broken file; its description and every tick give the error."""
    sensors: list[dg.SensorDefinition] = []
    taken: set[str] = set()
    for file, mine in errors_by_file(errors).items():
        line = broken_file_line(file, mine)

        @dg.sensor(
            name=_sensor_name(file, taken),
            description=f"This workflow file does not load, so it has no job: {line}",
            minimum_interval_seconds=3600,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
        def broken(_context: dg.SensorEvaluationContext, line: str = line) -> dg.SkipReason:
            return dg.SkipReason(line)

        sensors.append(broken)
    return sensors
