"""Issue 24 item 6: the console on a database that refuses writes degrades, it does not fail.
SQLite on a 4 MB tmpfs filled to its last byte; PostgreSQL in read-only transactions (the server's
refusal of writes; its disk is shared and not ours to fill). Login works (the last-login write and
the session row are skipped: a session held in memory), the queue, campaign and dashboard pages
render read only with the storage alarm on every page, a change is a 503 that says why, the audit
rows go to the log. Before: login 500, queue and campaign pages 500, every page after 30 s."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.console.app import build_app
from bot.console.context import CONSOLE
from bot.console.security import ConsoleSettings
from storage.db import Database
from storage.models import WebSession
from tests.console.conftest import REPO, csrf_of, login
from tests.console.seed import add_users, seed_cases
from tests.reliability.smallfs import fill, mounted

pytestmark = pytest.mark.slow


@pytest.fixture
def alarm_reset():  # each app has its own alarm now (the worker's, bot.console.context.Console.storage_alarm)
    yield


def _read_only_twin(db: Database) -> Database:
    """The same PostgreSQL schema, every transaction read-only: the server refuses each write (25006)."""
    return Database(f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"
                    "%20-cdefault_transaction_read_only%3Don")


async def test_a_console_on_a_database_refusing_writes_logs_in_and_reads(db, tmp_path, caplog, alarm_reset) -> None:
    caplog.set_level(logging.WARNING)
    with mounted(tmp_path / "fs") if db.dialect == "sqlite" else _nothing() as mnt:
        database = Database(f"sqlite:///{mnt / 'veribot.db'}") if mnt else db
        if mnt:
            database.upgrade()
        add_users(database, ("admin1", "admin"))
        seeded = seed_cases(database)
        app = build_app(database, ConsoleSettings(secure_cookies=False), dialogs_dir=REPO / "dialogs",
                        var_dir=tmp_path / "var")
        async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Accept-Language": "en-US"}) as client:
            await login(client, "admin1")  # before the disk fills; its session is 60 s idle: a touch is due
            database.run(lambda s: [setattr(w, "last_seen_at", w.last_seen_at - timedelta(seconds=60))
                                    for w in s.exec(select(WebSession)).all()])
            if mnt:
                with database.engine.connect() as conn:  # an empty journal: every write needs new space
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                fill(mnt)
            else:
                app[CONSOLE].database = ro = _read_only_twin(db)
            camp = seeded["campaign"]
            pages = ["/queue", "/dashboard", "/campaigns", f"/campaigns/{camp}", f"/cases/{seeded['cases'][0]}"]
            for path in pages:  # the session's touch and the views' audit rows fail: pages still render
                resp = await client.get(path, headers={"Accept": "text/html"})
                html = await resp.text()
                assert resp.status == 200, (path, resp.status, html[:300])
                assert 'id="storage-alarm"' in html, path  # the alarm on every page
            assert not app[CONSOLE].storage_alarm.ok
            assert any("audit (kept in the log" in r.getMessage() and "queue.view" in r.getMessage()
                       for r in caplog.records)
            token = await csrf_of(client)
            resp = await client.post(f"/cases/{seeded['cases'][0]}/claim", headers={"X-CSRF-Token": token,
                                                                                    "Accept": "text/html"})
            assert resp.status == 503 and "The database refuses writes" in await resp.text()
            client.session.cookie_jar.clear()  # a new login while the database refuses writes
            await login(client, "admin1")
            resp = await client.get("/queue", headers={"Accept": "text/html"})
            assert resp.status == 200 and 'id="storage-alarm"' in await resp.text()
            logout = await client.post("/logout", data={"csrf": await csrf_of(client)}, allow_redirects=False)
            assert logout.status in (303, 503)
        if mnt:
            database.dispose()
        else:
            ro.dispose()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
