"""The Python side of a step: a `python:module:function` actor called per posting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from turing_dagster.steps.results import CheckpointRecorder, Chunk, Producer, StepError
from turing_dagster.steps.stats import StepStats
from turing_dagster.steps.wave_state import PostingState
from turing_dagster.workflows.actors import import_actor
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan


def resolve_python_actor(step: PlannedStep) -> Callable[[dict, dict], Any]:
    module_name, function_name = step.conversation.python_target
    try:
        return import_actor(step.conversation)
    except (ImportError, AttributeError) as exc:
        raise StepError(
            f"conversation '{step.conversation.name}': actor: cannot import {module_name}:{function_name} ({exc})"
        ) from exc


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def python_chunks(plan: WorkflowPlan, step: PlannedStep, stats: StepStats,
                  recorder: CheckpointRecorder | None = None) -> Producer:
    """Python steps simply rerun (they are cheap); their outputs feed the request keys of the steps after."""
    recorder = recorder or CheckpointRecorder(plan, step, stats)

    def produce(parts: Iterable[list[PostingState]]):
        actor = None
        for part in parts:
            actor = actor or resolve_python_actor(step)  # imported when there is a posting to give it
            chunk = Chunk()
            for ps in part:
                started = time.perf_counter()
                try:
                    output = as_text(actor(dict(ps.posting), dict(ps.outputs)))
                    reason = check_output(step.conversation, output)
                except Exception as exc:  # an actor's bug fails its posting, not the wave
                    output, reason = None, f"{type(exc).__name__}: {exc}"
                latency = time.perf_counter() - started
                stats.latencies.append(latency)
                extra = {"attempts": 1, "latency_ms": round(latency * 1000)}
                if reason is None:
                    recorder.completed(ps, output, chunk, **extra)
                else:
                    recorder.failed(ps, reason, chunk, **extra)
            yield chunk

    return produce
