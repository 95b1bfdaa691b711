"""Integration tier: the real ollama client over HTTP to the simulator, a real Dagster instance
(SQLite, or PostgreSQL storage next to a PostgreSQL store), nothing patched."""

from __future__ import annotations

import dagster as dg
import pytest

from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster_tests.conftest import DAGSTER_PG_URL, require_postgres
from turing_dagster_tests.integration.helpers import forget_waves


@pytest.fixture(scope="session")
def simulator():
    config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.02, request_seconds=0.002), parallel=4)
    with start_simulator(config, port=0) as sim:
        yield sim


@pytest.fixture
def sim(simulator, monkeypatch):
    from turing_dagster.simulator import FaultConfig

    simulator.set_faults(FaultConfig())
    simulator.reset()
    monkeypatch.setenv("OLLAMA_HOST", simulator.url)
    return simulator


@pytest.fixture
def instance(db_url, tmp_path, monkeypatch):
    """Dagster's instance on the same kind of database as the store under test."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    config = "telemetry:\n  enabled: false\n"
    if db_url.startswith("postgresql"):
        require_postgres()
        config += f"storage:\n  postgres:\n    postgres_url: {DAGSTER_PG_URL or db_url}\n"
    (home / "dagster.yaml").write_text(config)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TURING_DATABASE_URL", db_url)
    inst = dg.DagsterInstance.from_config(str(home))
    if db_url.startswith("postgresql"):
        inst.wipe()
        forget_waves(inst, "branchy", "pyonly")
    yield inst
    inst.dispose()
