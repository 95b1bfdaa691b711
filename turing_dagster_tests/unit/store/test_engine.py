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
