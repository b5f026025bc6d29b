"""Database behaviour the dialer relies on: durable SQLite settings, writes that wait out a locked
database, group commit that keeps order and isolates a failing write, async work off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import AuditEvent, DoNotCall


def test_sqlite_is_wal_with_full_sync_and_foreign_keys(sqlite_db):
    with sqlite_db.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_write_waits_for_a_locked_database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'v.db'}", busy_timeout=0.1)  # short lock wait: the retry loop works
    db.upgrade()
    blocker = sqlite3.connect(tmp_path / "v.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock ...
    threading.Timer(1.0, lambda: blocker.execute("COMMIT")).start()  # ... for a second
    db.run(lambda s: s.add(DoNotCall(phone="+8613800138000")))  # retried until the lock is gone
    assert db.run(lambda s: s.exec(select(DoNotCall.phone)).all(), write=False) == ["+8613800138000"]
    blocker.close()
    db.dispose()


async def test_group_commit_keeps_order_and_isolates_a_failing_write(db):
    db.run(lambda s: s.add(DoNotCall(phone="+8613800000000")))
    futs = [db.submit(lambda s, i=i: s.add(AuditEvent(actor="t", action=f"a{i}"))) for i in range(50)]
    bad = db.submit(lambda s: s.add(DoNotCall(phone="+8613800000000")))  # duplicate: must fail alone
    futs += [db.submit(lambda s, i=i: s.add(AuditEvent(actor="t", action=f"b{i}"))) for i in range(50)]
    for f in futs:
        await asyncio.wrap_future(f)
    with pytest.raises(IntegrityError):
        await asyncio.wrap_future(bad)
    actions = db.run(lambda s: s.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all(), write=False)
    assert actions == [f"a{i}" for i in range(50)] + [f"b{i}" for i in range(50)]


async def test_database_work_does_not_block_the_event_loop(db):
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    hb = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    await db.arun(lambda s: time.sleep(0.5), write=False)  # a slow query ...
    await db.arun(lambda s: time.sleep(0.5))  # ... and a slow write
    hb.cancel()
    assert ticks >= 20  # the loop kept running meanwhile


async def test_queued_writes_of_a_live_call_wait_out_a_locked_database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'v.db'}", busy_timeout=0.1)
    db.upgrade()
    blocker = sqlite3.connect(tmp_path / "v.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(1.0, lambda: blocker.execute("COMMIT")).start()
    futs = [db.submit(lambda s, i=i: s.add(AuditEvent(actor="call", action=f"turn{i}"))) for i in range(5)]
    for f in futs:
        await asyncio.wrap_future(f)
    assert len(db.run(lambda s: s.exec(select(AuditEvent)).all(), write=False)) == 5
    blocker.close()
    db.dispose()
