"""Migrations: an empty database upgrades to head; a database built at revision 0001 with data in it
upgrades to head without losing a row; the migrated schema matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from storage.models import Campaign, Person

MIGRATE_EACH_TEST = True  # tests/conftest.py: this module's `db` is migrated by alembic, not copied


def _diff(db):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata)


def test_fresh_database_matches_the_models(db):
    assert _diff(db) == []
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head(db)


def _head(db) -> str:
    """The one head of the migration scripts (two heads would be a broken chain)."""
    from alembic.script import ScriptDirectory

    (head,) = ScriptDirectory.from_config(db.alembic_config()).get_heads()
    return head


def test_upgrade_from_revision_1_keeps_the_data(db):
    # the fixture built head; rebuild at 0001 to play an old installation
    db.engine.dispose()
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        conn.begin()
        for t in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{t.name}"'))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.commit()
    db.engine.dispose()
    db.upgrade("0001")
    cols = {c["name"] for c in inspect(db.engine).get_columns("campaign")}
    assert "description" not in cols
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO campaign (name, status, dialog_name, dialog_path, concurrency, window_start,"
                          " window_end, timezone, retention_days, created_at) VALUES ('old', 'running', 'v',"
                          " 'd.yaml', 2, '09:00', '20:00', 'Asia/Shanghai', 30, '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO person (campaign_id, name, phone, expected_address, risk_category, priority,"
                          " notes, state, attempt_count, purged, created_at, updated_at) VALUES (1, '张三',"
                          " '+8613800138000', '', '密接', 1, '', 'pending', 0, false, '2026-01-01 00:00:00',"
                          " '2026-01-01 00:00:00')"))
    db.upgrade()
    assert _diff(db) == []
    camp = db.run(lambda s: s.exec(select(Campaign)).one(), write=False)
    assert (camp.name, camp.description, camp.concurrency) == ("old", "", 2)
    assert db.run(lambda s: s.exec(select(Person.name, Person.phone)).all(), write=False) == [("张三", "+8613800138000")]
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("webhook_delivery")}
    assert "ix_webhook_due" in indexes
    assert "sip_dialog" in {c["name"] for c in inspect(db.engine).get_columns("attempt")}  # 0007
    # and back down, then up again (downgrades work too)
    from alembic import command

    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            command.downgrade(db.alembic_config(conn), "0001")
    db.upgrade()
    assert _diff(db) == []


def test_one_active_attempt_per_number_is_enforced_by_the_database(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from storage.models import Attempt

    def setup(s):
        c = Campaign(name="c")
        s.add(c)
        s.flush()
        p = Person(campaign_id=c.id, phone="+8613800138000")
        s.add(p)
        s.flush()
        s.add(Attempt(person_id=p.id, campaign_id=c.id, phone=p.phone, state="dialling"))
        return c.id, p.id

    cid, pid = db.run(setup)
    for state in ("pending", "claimed", "dialling", "in_call"):
        with pytest.raises(IntegrityError):
            db.run(lambda s, st=state: s.add(Attempt(person_id=pid, campaign_id=cid, phone="+8613800138000", state=st)))
    for state in ("ended", "interrupted", "ended"):
        db.run(lambda s, st=state: s.add(Attempt(person_id=pid, campaign_id=cid, phone="+8613800138000", state=st)))


def test_processes_starting_together_migrate_one_at_a_time(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = f"from storage.db import Database; Database({url!r}).upgrade()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    from storage.db import Database

    db = Database(url)
    assert _diff(db) == []
    db.dispose()
