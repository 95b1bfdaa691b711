"""The step-boundary profile (bench/boundaries.py) attributes each thread's samples to the part of the flow
it was in: the conversations thread (the critical path between two LLM steps) apart from the main thread
(Dagster recording the finished conversation meanwhile)."""

from __future__ import annotations

import math

from bench.boundaries import attribute, totals, windows
from bench.boundary_rules import kind_of, phase_of

SITE = "/venv/lib/python3.12/site-packages"
LOAD = ["/repo/turing_dagster/ollama/session.py:load", "/repo/turing_dagster/steps/llm_side.py:run",
        "/repo/turing_dagster/dagster_defs/assets.py:drive", "/repo/turing_dagster/dagster_defs/assets.py:run_all",
        "/usr/lib/python3.12/threading.py:run"]
EVENT_WRITE = [f"{SITE}/sqlalchemy/engine/base.py:execute", f"{SITE}/dagster/_core/storage/event_log/sqlite.py:store_event",
               f"{SITE}/dagster/_core/execution/plan/execute_step.py:core_dagster_event_sequence_for_step",
               "/repo/turing_dagster/dagster_defs/runner.py:run_workflow", "/repo/turing_dagster/cli/run.py:run"]
WAITING = ["/usr/lib/python3.12/threading.py:wait", "/usr/lib/python3.12/queue.py:get",
           "/repo/turing_dagster/dagster_defs/assets.py:conversations",
           f"{SITE}/dagster/_core/execution/plan/compute.py:execute_core_compute",
           "/repo/turing_dagster/dagster_defs/runner.py:run_workflow"]


def test_a_conversation_threads_frames_are_in_the_job_without_the_runner_on_its_stack():
    assert phase_of(LOAD, "turing-conversations") == "model session: load"
    assert phase_of(LOAD, "main").startswith("turing CLI")  # the same frames on the main thread: outside the job
    assert phase_of(EVENT_WRITE) == "Dagster event log (writes and reads)"
    assert kind_of(EVENT_WRITE) == "Dagster storage (SQL)"
    assert phase_of(WAITING) == "step body: waiting for the next conversation"
    assert kind_of(WAITING) == "waiting (condition, event, queue)"


def test_each_threads_samples_in_a_boundary_are_counted_apart():
    names = sorted({*LOAD, *EVENT_WRITE})
    load, write = tuple(names.index(f) for f in LOAD), tuple(names.index(f) for f in EVENT_WRITE)
    samples = [(10.0 + 0.002 * i, {"main": write, **({"turing-conversations": load} if i % 2 else {})})
               for i in range(101)]
    profile = {"names": names, "interval": 0.002, "samples": samples,
               "spans": [("http", "/api/show", 10.05, 10.06, "turing-conversations"),
                         ("dagster event", "STEP_OUTPUT", 10.1, 10.12, "MainThread"),
                         ("http", "/api/chat", 9.0, 10.01, "ThreadPoolExecutor-0_0")]}  # begun before: not in it
    steps = [{"step": "a", "started": 1.0, "first_request": 2.0, "last_answer": 10.0},
             {"step": "py", "started": 10.01, "first_request": None, "last_answer": None},
             {"step": "b", "started": 10.02, "first_request": 10.2, "last_answer": 11.0}]
    parts = [attribute(profile, w) for w in windows(steps, 0.0, 12.0)]
    assert [p["name"] for p in parts] == ["start-up: process start -> first request", "a -> py -> b",
                                          "end: last answer -> process exit"]
    boundary = parts[1]
    assert boundary["boundary"] and math.isclose(boundary["seconds"], 0.2)
    main, conversations = boundary["threads"]["main"], boundary["threads"]["conversations"]
    assert math.isclose(main["sampled_seconds"], 0.2, rel_tol=0.02)  # every sample of the window
    assert math.isclose(conversations["sampled_seconds"], 0.1, rel_tol=0.05)  # alive in every other one
    assert list(conversations["phases"]) == ["model session: load"]
    assert list(main["phases"]) == ["Dagster event log (writes and reads)"]
    assert set(boundary["spans"]) == {"http /api/show (conversations)", "dagster event STEP_OUTPUT (main)"}
    total = totals(parts)
    assert total["boundaries"] == 1 and set(total["threads"]) == {"main", "conversations"}
