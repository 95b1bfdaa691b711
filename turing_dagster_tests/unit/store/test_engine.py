"""Database URLs a user mistypes: one line, never the password, never a traceback."""

from __future__ import annotations

import pytest

from turing_dagster.store.engine import StoreError, get_engine, redacted_url


@pytest.mark.parametrize(
    "url",
    [
        "user:S3cret@host/db",  # no scheme
        "postgresql+psycopg2://user:S3cret@host:abc/db",  # non-numeric port
        "user:S3:cr@et@host/db",  # a password with ':' and '@' in it
    ],
)
def test_a_bad_url_is_one_line_without_its_password(url):
    with pytest.raises(StoreError) as err:
        get_engine(url)
    text = str(err.value)
    assert "S3" not in text and "***" in text and "\n" not in text
    assert text.startswith("TURING_DATABASE_URL is not a valid SQLAlchemy URL")


def test_a_good_url_is_shown_without_its_password():
    assert redacted_url("postgresql+psycopg2://u:S3cret@h:5432/db") == "postgresql+psycopg2://u:***@h:5432/db"


def test_psycopg2_sends_many_updates_a_page_at_a_time():
    """A step's save_to write-backs are one UPDATE per posting: psycopg2's plain executemany makes each a
    round trip, execute_batch sends them a page at a time (SQLAlchemy's `values_plus_batch`)."""
    from sqlalchemy.dialects.postgresql.psycopg2 import EXECUTEMANY_VALUES_PLUS_BATCH

    engine = get_engine("postgresql+psycopg2://u:p@127.0.0.1:9/none")  # never connected
    assert engine.dialect.executemany_mode is EXECUTEMANY_VALUES_PLUS_BATCH
    assert get_engine("sqlite://").dialect.name == "sqlite"  # the option is psycopg2's alone
