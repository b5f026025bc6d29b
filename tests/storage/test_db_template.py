"""The SQLite test databases are copies of one migrated file (tests/conftest.py). A copy must be
the database alembic builds: the same tables, indexes and their SQL, alembic revision and journal
mode as an empty database upgraded by `Database.upgrade`; and it starts empty."""

from __future__ import annotations

from sqlmodel import select

from storage.db import Database
from tests.conftest import _sqlite


def _sqlite_shape(db: Database) -> list:
    with db.engine.connect() as conn:
        master = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all()
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    return [*map(tuple, master), *map(tuple, version), mode]


def test_the_copied_sqlite_file_is_the_migrated_one(tmp_path, request):
    template = request.getfixturevalue("_sqlite_template")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    migrated, copied = _sqlite(tmp_path / "a"), _sqlite(tmp_path / "b", template)
    try:
        want, got = _sqlite_shape(next(migrated)), _sqlite_shape(next(copied))
    finally:
        for gen in (migrated, copied):
            gen.close()
    assert len(want) > 20
    assert got == want


def test_a_test_database_takes_writes_and_is_its_own(db):
    from storage.models import Campaign

    db.run(lambda s: s.add(Campaign(name="own", dialog_name="v", dialog_path="d.yaml")))
    names = db.run(lambda s: [c.name for c in s.exec(select(Campaign)).all()], write=False)
    assert names == ["own"]  # a copy starts empty, whatever other tests wrote

