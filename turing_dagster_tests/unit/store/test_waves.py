"""Admission into waves: order, sizes, and two admitters at once."""

from __future__ import annotations

import threading

from turing_dagster.store.admission import admit_pending
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.waves import admit, pending_summary, wave_keys, wave_members
from turing_dagster.workflows.loader import parse_workflow

WF, _ = parse_workflow(
    {
        "workflow_id": 77,
        "name": "w",
        "waves": {"min_size": 1, "max_wait_seconds": 1, "max_size": 3},
        "conversations": [{"conversation_id": 1, "name": "a", "execution_order": 1, "actor": "python:m.x:f"}],
    }
)


def _add(engine, ids, **extra):
    upsert_postings(engine, [{"posting_id": i, "job_title": "t", "job_description": "d", "extra": {}, **extra} for i in ids])


def test_admit_splits_pending_postings_into_waves_and_skips_disabled(engine):
    _add(engine, [f"p{i}" for i in range(7)])
    _add(engine, ["off"], enabled=False)
    assert pending_summary(engine, 77)[0] == 7
    waves = admit(engine, 77, 3)
    assert [(w.key, len(w.posting_ids)) for w in waves] == [("w000001", 3), ("w000002", 3), ("w000003", 1)]
    assert pending_summary(engine, 77) == (0, None)
    assert admit(engine, 77, 3) == []
    _add(engine, ["late"])
    assert [w.key for w in admit(engine, 77, 3)] == ["w000004"]
    assert wave_members(engine, 77, ["w000004"]) == {"w000004": ["late"]}
    assert admit(engine, 78, 10)[0].key == "w000001"  # wave keys are per workflow


def test_concurrent_admitters_never_put_a_posting_in_two_waves(engine):
    _add(engine, [f"p{i:02d}" for i in range(40)])
    errors = []

    def admitter():
        try:
            admit_pending(engine, WF, wave_size=3, wait=False)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=admitter) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    members = wave_members(engine, 77, wave_keys(engine, 77))
    everyone = [pid for ids in members.values() for pid in ids]
    assert sorted(everyone) == [f"p{i:02d}" for i in range(40)]


def test_file_fields_named_like_empty_columns_stay_visible(engine):
    from turing_dagster.store.waves import load_postings

    upsert_postings(engine, [{"posting_id": "z", "job_title": "t", "job_description": "d",
                              "extra": {"language": "de", "skills": "SQL", "team": "ops"}}])
    seen = load_postings(engine, ["z"])["z"]
    assert (seen["language"], seen["skills"], seen["team"], seen["job_title"]) == ("de", "SQL", "ops", "t")
    assert seen["extracted_summary"] is None
