"""Shared fixtures: a database per test on SQLite and, where a server is given, PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from turing_dagster.store.engine import dispose_all, get_engine
from turing_dagster.store.migrate import upgrade
from turing_dagster.store.schema import metadata


def _own_database(var: str) -> str | None:
    """The PostgreSQL URL in `var`, made this pytest-xdist worker's own database (created when missing), so
    that workers running at once never drop each other's tables; set back into the environment for the
    processes the tests start."""
    url = os.environ.get(var)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    os.environ[var] = own
    return own


TESTS = Path(__file__).resolve().parent
PG_URL = _own_database("TURING_TEST_DATABASE_URL")
DAGSTER_PG_URL = _own_database("TURING_TEST_DAGSTER_PG_URL")
# the test workflows (branchy, pyonly), shared by the Dagster and the integration tiers
WORKFLOWS = TESTS / "dagster" / "workflows"


# the tiers a contributor can leave out of a quick loop (`make quick`); `make test` and CI run them all
_SLOW_DIRS = {"integration", "bench"}  # they start the simulator, Dagster runs and processes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_url" in item.fixturenames and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)
        if item.path.resolve().relative_to(TESTS).parts[0] in _SLOW_DIRS:
            item.add_marker(pytest.mark.slow)


def require_in_ci(what: str, why: str) -> None:
    """Skip for want of `what` on a contributor's machine; CI has everything, so there it fails."""
    if os.environ.get("CI"):
        pytest.fail(f"CI runs this tier: {what} is missing ({why})")
    pytest.skip(f"{what} is missing here: {why}")


def require_postgres() -> str:
    if not PG_URL:
        require_in_ci("PostgreSQL", "TURING_TEST_DATABASE_URL is not set: `eval $(.ci/start-postgres)` starts one")
    return PG_URL


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def pg_url() -> str:
    url = require_postgres()
    _reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgres":
        url = require_postgres()
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'turing.db'}"


@pytest.fixture
def engine(db_url: str):
    """A migrated, empty store on the parametrised database."""
    engine = get_engine(db_url)
    upgrade(engine)
    yield engine
    dispose_all()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    # never touch the developer's own state: every test gets its own embedded store and Dagster home
    monkeypatch.setenv("TURING_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("TURING_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    yield
    dispose_all()  # every engine a test opened, whatever the test did or where it failed


@pytest.fixture
def workflows_dir(monkeypatch) -> Path:
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(WORKFLOWS))
    return WORKFLOWS
