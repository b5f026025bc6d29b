"""Console fixtures: a scratch SQLite database, and the app served on loopback by aiohttp's
test server (fast tests) — the browser tests start `veribot serve` themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.console.app import build_app
from bot.console.security import ConsoleSettings
from storage.db import Database

from .seed import PASSWORD

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(db: Database) -> Database:
    """The shared fresh, migrated database (tests/conftest.py): SQLite, and PostgreSQL when
    VERIBOT_TEST_PG_URL is set."""
    return db


@pytest.fixture
async def client(database: Database, tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = ConsoleSettings(secure_cookies=False, login_max_failures=3)
    app = build_app(database, settings, dialogs_dir=REPO / "dialogs", var_dir=tmp_path / "var",
                    variables={"agency": "测试局", "agency.en": "Test Bureau", "caller_id": "96110",
                               "callback_number": "96110", "badge": "6201-0427", "callback_minutes": "120"})  # a desk that can publish
    # English, so assertions read as the messages are written; tests/console/test_i18n.py asks in Chinese
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Accept-Language": "en-US"}) as c:
        yield c


async def csrf_of(client: TestClient, path: str = "/queue") -> str:
    """The CSRF token from a page's meta tag."""
    html = await (await client.get(path)).text()
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


async def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = await (await client.get("/login")).text()
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    token = page[start:page.index('"', start)]
    resp = await client.post("/login", data={"username": username, "password": password, "csrf": token},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()


async def claim_seeded_case(client: TestClient, database: Database, which: int = 0) -> tuple[int, str]:
    """Operator op1 (created here) logs in and claims seeded case `which`: (case id, CSRF token)."""
    from .seed import add_users, seed_cases

    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][which]
    await login(client, "op1")
    token = await csrf_of(client)
    await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    return case_id, token
