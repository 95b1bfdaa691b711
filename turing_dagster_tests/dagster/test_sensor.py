"""The new-postings sensor batches a trickle into waves."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import pytest
import sqlalchemy as sa

from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.definitions import build_definitions
from turing_dagster.store.engine import get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import postings


@pytest.fixture
def batched_workflows(workflows_dir, tmp_path, monkeypatch):
    target = tmp_path / "wf"
    shutil.copytree(workflows_dir, target)
    path = target / "branchy.yaml"
    path.write_text(path.read_text() + "waves: {min_size: 3, max_wait_seconds: 60, max_size: 4}\n")
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(target))
    return target


def _add(engine, ids):
    upsert_postings(engine, [{"posting_id": i, "job_title": "t", "job_description": "d" * 30, "extra": {}} for i in ids])


def _tick(instance, url):
    sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
    with dg.build_sensor_context(instance=instance, resources={"store": TuringStore(database_url=url)}) as context:
        return sensor(context)


def test_sensor_waits_for_min_size_then_admits_waves_and_requests_runs(batched_workflows, instance, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = get_engine(url)
    upgrade(engine)
    _add(engine, ["a1", "a2"])
    skip = _tick(instance, url)
    assert isinstance(skip, dg.SkipReason) and "2 pending < min_size 3" in skip.skip_message
    _add(engine, ["a3", "a4", "a5", "a6"])
    result = _tick(instance, url)
    assert isinstance(result, dg.SensorResult)
    # six pending, waves of at most 4: two waves, a run for each, partitions added first
    assert [r.partition_key for r in result.run_requests] == ["w000001", "w000002"]
    assert len({r.run_key for r in result.run_requests}) == 2
    assert result.dynamic_partitions_requests[0].partition_keys == ["w000001", "w000002"]
    instance.add_dynamic_partitions("branchy_waves", ["w000001", "w000002"])
    again = _tick(instance, url)
    assert isinstance(again, dg.SkipReason) and "no pending" in again.skip_message


def test_sensor_admits_a_lone_posting_after_max_wait(batched_workflows, instance, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = get_engine(url)
    upgrade(engine)
    _add(engine, ["old"])
    assert isinstance(_tick(instance, url), dg.SkipReason)
    with engine.begin() as conn:
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)
        conn.execute(sa.update(postings).values(created_at=past))
    result = _tick(instance, url)
    assert [r.partition_key for r in result.run_requests] == ["w000001"]


def test_sensor_skips_with_a_hint_before_turing_init(batched_workflows, instance, tmp_path):
    skip = _tick(instance, f"sqlite:///{tmp_path / 'empty.db'}")
    assert isinstance(skip, dg.SkipReason) and "turing init" in skip.skip_message


def test_a_reset_store_with_the_same_dagster_home_still_gets_its_runs(batched_workflows, instance, tmp_path):
    first = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(get_engine(first))
    _add(get_engine(first), ["a1", "a2", "a3"])
    result = _tick(instance, first)
    instance.add_dynamic_partitions("branchy_waves", ["w000001"])
    second = f"sqlite:///{tmp_path / 'two.db'}"  # a new database, the same instance
    upgrade(get_engine(second))
    _add(get_engine(second), ["b1", "b2", "b3"])
    again = _tick(instance, second)
    assert isinstance(again, dg.SensorResult) and [r.partition_key for r in again.run_requests] == ["w000001"]
    assert again.run_requests[0].run_key != result.run_requests[0].run_key  # not deduplicated away
    assert again.dynamic_partitions_requests == []  # the partition exists already
