"""Shared database fixtures (any area may use them).

- `db`: a fresh, migrated `storage.db.Database`, parametrized over SQLite (a file in tmp_path) and
  PostgreSQL (a fresh schema in $VERIBOT_TEST_PG_URL; skipped when that is unset — CI always sets it).
- `sqlite_db`: SQLite only.  `pg_url`: the PostgreSQL server URL (skips when unset).

Each test's SQLite database is a copy of one file migrated once a session (~230 tests take one; alembic
per test was ~0.3 s each, a copy takes milliseconds; tests/storage/test_db_template.py proves the copy
is the migrated schema). A module that tests the migrations themselves sets `MIGRATE_EACH_TEST = True`
and gets alembic per test. PostgreSQL schemas are migrated per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "VERIBOT_TEST_PG_URL"


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set (scripts/test.sh starts PostgreSQL and sets it)")
    return url


def _each_test(request) -> bool:
    return bool(getattr(request.module, "MIGRATE_EACH_TEST", False))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, checkpointed (no -wal beside it), copied for each test."""
    from storage.db import Database

    path = tmp_path_factory.mktemp("db-template") / "veribot.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def _sqlite(tmp_path, template: Path | None = None) -> Iterator:
    from storage.db import Database

    path = tmp_path / "veribot.db"
    if template is not None:
        shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    if template is None:
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
    db.upgrade()  # a replay of the recorded migration SQL measured only ~10% faster: the server's DDL is the cost
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> Iterator:
    each = _each_test(request)
    if request.param == "sqlite":
        yield from _sqlite(tmp_path, None if each else request.getfixturevalue("_sqlite_template"))
    else:
        yield from _pg(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_db(request, tmp_path) -> Iterator:
    yield from _sqlite(tmp_path, None if _each_test(request) else request.getfixturevalue("_sqlite_template"))


@pytest.fixture
def pg_db(pg_url) -> Iterator:
    yield from _pg(pg_url)
