"""The GPU timeline from the engine's call records: steps in and out of their run records, residency,
calls in flight, and a picture a person can read (lanes per host, a legend per model)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from turing_dagster.dagster_defs.gpu_timeline import run_events
from turing_dagster.ollama.records import CallRecord
from turing_dagster.report.render import LEFT, PALETTE, draw, tint, write_png
from turing_dagster.report.timeline import from_events, in_flight, residencies, summary
from turing_dagster.store.runs import record_step
from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan

A, B = "http://127.0.0.1:11434", "http://127.0.0.1:11435"
T = 1_800_000_000.0


def rec(host, model, kind, start, end, key=None, ok=True) -> CallRecord:
    return CallRecord(host, model, kind, T + start, T + end, key, ok)


def step_events(conversation, start, end, records, **extra) -> list[dict]:
    return [{"conversation": conversation, "step_start": start, "step_end": end, **extra,
             "calls": [r.as_dict() for r in records]}]


def two_host_run() -> list[dict]:
    """Two steps: gemma3 on both hosts, then gemma2 on host A only (gemma3 unloaded there first)."""
    first = [
        rec(A, "gemma3:4b", "load", 0.1, 1.1), rec(B, "gemma3:4b", "load", 0.1, 1.6),
        rec(A, "gemma3:4b", "chat", 1.2, 2.0, "p1"), rec(A, "gemma3:4b", "chat", 1.3, 2.5, "p2"),
        rec(B, "gemma3:4b", "chat", 1.7, 2.2, "p3"), rec(B, "gemma3:4b", "chat", 1.8, 2.0, "p4", ok=False),
    ]
    second = [
        rec(A, "gemma3:4b", "unload", 3.0, 3.1), rec(A, "gemma2:latest", "load", 3.1, 4.0),
        rec(A, "gemma2:latest", "chat", 4.1, 4.6, "p1"), rec(A, "gemma2:latest", "unload", 4.7, 4.8),
    ]
    return [
        *step_events("extract", T, T + 2.6, first, execution_order=3, model="gemma3:4b"),
        *step_events("grade", T + 2.9, T + 4.9, second, execution_order=4, model="gemma2:latest"),
    ]


def test_steps_round_trip_through_their_run_records(engine):
    wf, _ = parse_workflow({"workflow_id": 5, "name": "w", "conversations": [
        {"conversation_id": 51, "name": "extract", "execution_order": 3, "actor": "gemma3:4b", "prompt": "p"},
        {"conversation_id": 52, "name": "grade", "execution_order": 4, "actor": "gemma2", "prompt": "q"}]})
    plan = WorkflowPlan(wf)
    for step, event in zip(plan.steps, two_host_run(), strict=True):
        records = [CallRecord.from_dict(c) for c in event["calls"]]
        record_step(engine, "run-1", SimpleNamespace(
            waves=["w000001"], started=event["step_start"], finished=event["step_end"], model_seconds=1.0,
            records=records, workflow_id=5, conversation_id=step.conversation.conversation_id, model=step.model,
            counts=lambda: {"calls": 2}))
    timeline = from_events(run_events(engine, plan, "run-1"))
    assert [s.conversation for s in timeline.steps] == ["extract", "grade"]
    assert timeline.steps[1].execution_order == 4 and timeline.steps[1].start == pytest.approx(T + 2.9)
    assert len(timeline.records) == 10
    assert timeline.hosts() == [A, B]
    assert timeline.models() == ["gemma3:4b", "gemma2:latest"]
    assert {r.key for r in timeline.records if r.kind == "chat"} == {"p1", "p2", "p3", "p4"}
    assert run_events(engine, plan, "another-run") == []


def test_the_embedded_picture_is_a_small_png(tmp_path):
    data = write_png(from_events(two_host_run()), tmp_path / "t.png", "GPU timeline", embed_dpi=60)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 80_000


def test_a_step_without_calls_still_marks_its_boundaries():
    events = step_events("clean", T, T + 0.3, [])
    assert len(events) == 1 and events[0]["calls"] == []
    timeline = from_events(events)
    assert timeline.records == [] and timeline.steps[0].end == pytest.approx(T + 0.3)


def test_residency_pairs_each_load_with_its_unload():
    stays = residencies(from_events(two_host_run()))
    by = {(s.host, s.model): s for s in stays}
    assert len(stays) == 3
    a3 = by[(A, "gemma3:4b")]
    assert (a3.load_start - T, a3.load_end - T, a3.unload_at - T) == pytest.approx((0.1, 1.1, 3.0))
    assert by[(A, "gemma2:latest")].unload_at - T == pytest.approx(4.7)
    assert by[(B, "gemma3:4b")].unload_at is None  # still resident when the records end


def test_a_reload_without_a_seen_unload_closes_the_earlier_stay():
    records = [rec(A, "m", "load", 0, 1), rec(A, "m", "load", 5, 6), rec(A, "m", "load", 7, 7.5, ok=False)]
    stays = residencies(from_events(step_events("s", T, T + 8, records)))
    assert [(s.load_start - T, None if s.unload_at is None else s.unload_at - T) for s in stays] == [
        (0, 5), (5, None)
    ]


def test_in_flight_counts_overlapping_calls():
    calls = [rec(A, "m", "chat", 0, 2), rec(A, "m", "chat", 1, 3), rec(A, "m", "chat", 2, 4), rec(A, "m", "chat", 5, 6)]
    times, counts = in_flight(calls)
    assert [t - T for t in times] == [0, 1, 2, 3, 4, 5, 6]
    assert counts == [1, 2, 2, 1, 0, 1, 0]


def test_summary_counts_per_model():
    counts = summary(from_events(two_host_run()))
    assert counts["gemma3:4b"] == {"load": 2, "unload": 1, "chat": 4, "failed": 1}
    assert counts["gemma2:latest"] == {"load": 1, "unload": 1, "chat": 1, "failed": 0}


def test_picture_has_a_lane_per_host_a_legend_per_model_and_seconds_from_run_start():
    picture = draw(from_events(two_host_run()), "GPU timeline: test")
    assert picture.texts("host") == [f"Ollama host {A}", f"Ollama host {B}"]
    legend = picture.texts("legend")
    assert legend[:2] == ["gemma3:4b", "gemma2:latest"] and "loading" in legend
    assert "seconds since run start" in picture.texts("axis")
    seconds = [label for label in picture.labels if label.role == "second"]
    assert seconds[0].text == "0" and seconds[0].x == LEFT and [s.text for s in seconds[1:3]] == ["0.5", "1"]
    assert picture.texts("step") == ["3. extract", "4. grade"]
    # host A's residency rows name both models it held, host B's only gemma3 (first model at the bottom)
    assert picture.texts("resident") == ["gemma3:4b", "gemma2:latest", "gemma3:4b"]


def test_picture_draws_each_residency_in_its_models_colour_on_its_own_host():
    picture = draw(from_events(two_host_run()), "GPU timeline: test")
    rows = [label for label in picture.labels if label.role == "resident"]
    gemma2 = tint(PALETTE[1], 0.55)  # resident on host A from its load's end (4.0 s) to its unload (4.7 s)
    x_at = {float(label.text): label.x for label in picture.labels if label.role == "second"}
    x = round(x_at[4.0] + (x_at[4.5] - x_at[4.0]) * 0.8)  # 4.4 s
    assert picture.image.getpixel((x, round(rows[1].y))) == gemma2
    assert picture.image.getpixel((x, round(rows[2].y))) != gemma2  # host B never held gemma2


def test_write_png_writes_a_png_and_returns_the_small_copy_drawn_once(tmp_path):
    path = tmp_path / "sub" / "t.png"
    small = write_png(from_events(two_host_run()), path, "GPU timeline: test", embed_dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert small[:8] == b"\x89PNG\r\n\x1a\n" and 1000 < len(small) < len(data)
    assert write_png(from_events(two_host_run()), path, "GPU timeline: test") is None


def test_a_run_without_calls_still_draws_a_picture(tmp_path):
    timeline = from_events(step_events("clean", T, T + 0.3, []))
    picture = draw(timeline, "empty")
    assert picture.texts("step") == ["clean"]
    assert picture.texts("note") == ["no Ollama calls recorded in this run"] and picture.texts("host") == []
    write_png(timeline, tmp_path / "e.png", "empty")
    assert (tmp_path / "e.png").stat().st_size > 1000
