"""Shared database fixtures (any area may use them).

- `db`: a fresh, migrated `storage.db.Database`, parametrized over SQLite (a file in tmp_path) and
  PostgreSQL (a fresh schema in $VERIBOT_TEST_PG_URL; skipped when that is unset — CI always sets it).
- `sqlite_db`: SQLite only.  `pg_url`: the PostgreSQL server URL (skips when unset).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ENV = "VERIBOT_TEST_PG_URL"


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set (scripts/test.sh starts PostgreSQL and sets it)")
    return url


def _sqlite(tmp_path) -> Iterator:
    from storage.db import Database

    db = Database(f"sqlite:///{tmp_path / 'veribot.db'}")
    db.upgrade()
    yield db
    db.dispose()


def _pg(url: str) -> Iterator:
    from sqlalchemy import create_engine, text

    from storage.db import Database

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(url, schema=schema)
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> Iterator:
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    else:
        yield from _pg(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator:
    yield from _sqlite(tmp_path)


@pytest.fixture
def pg_db(pg_url) -> Iterator:
    yield from _pg(pg_url)
