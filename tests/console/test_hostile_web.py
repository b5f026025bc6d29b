"""Issue 24's console attacks, against the real app on loopback (SQLite and PostgreSQL): a burst of
wrong passwords against the lockout, a login burst against the calls' writes, the language link
as an open redirect, numbers in the query beyond any id."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future

from aiohttp.test_utils import TestClient

from bot.console import hashing
from bot.console.auth import LoginThrottle
from bot.console.context import CONSOLE
from storage.db import Database
from storage.models import AuditEvent

from .conftest import login
from .seed import PASSWORD, add_users


async def _login_token(client: TestClient) -> str:
    page = await (await client.get("/login")).text()
    return page.split('name="csrf" value="')[1].split('"')[0]


async def _burst(client: TestClient, token: str, names: list[str], password: str) -> list[int]:
    async def one(name: str) -> int:
        resp = await client.post("/login", data={"username": name, "password": password, "csrf": token},
                                 allow_redirects=False)
        await resp.read()
        return resp.status

    return list(await asyncio.gather(*(one(n) for n in names)))


async def test_99_simultaneous_wrong_passwords_cannot_pass_the_account_lock(client: TestClient,
                                                                           database: Database) -> None:
    """The client's app locks an account after 3 failures: of 99 guesses sent at once, 3 are checked
    (401) and 96 refused (429) — before, all 99 were checked and the right password then logged in."""
    add_users(database, ("op1", "operator"))
    token = await _login_token(client)
    statuses = await _burst(client, token, [" OP1", "op1", "ｏｐ１"] * 33, "wrong password!")  # one account
    assert sorted(statuses).count(401) == 3 and statuses.count(429) == 96, sorted(set(statuses))
    resp = await client.post("/login", data={"username": "op1", "password": PASSWORD, "csrf": token},
                             allow_redirects=False)
    assert resp.status == 429  # the right password is refused while locked


async def test_99_simultaneous_guesses_at_many_names_cannot_pass_the_address_lock(client: TestClient,
                                                                                 database: Database) -> None:
    add_users(database, ("op1", "operator"))
    client.server.app[CONSOLE].throttle = LoginThrottle(max_failures=5, source_factor=1)  # address: 5 failures
    token = await _login_token(client)
    statuses = await _burst(client, token, [f"user{i}" for i in range(99)], "wrong password!")
    assert statuses.count(401) == 5 and statuses.count(429) == 94, sorted(set(statuses))
    resp = await client.post("/login", data={"username": "op1", "password": PASSWORD, "csrf": token},
                             allow_redirects=False)
    assert resp.status == 429  # this address is locked, whoever it names


async def test_a_login_burst_does_not_delay_the_calls_writes(client: TestClient, database: Database) -> None:
    """Passwords are checked in their own process, not on the thread that commits calls' answers:
    while 8 bad logins hash (~0.5 s each here), a call's write still commits at once (before: each
    waited behind every hash, 4 s and more)."""
    token = await _login_token(client)
    burst = asyncio.ensure_future(_burst(client, token, [f"nobody{i}" for i in range(8)], "wrong password!"))
    await asyncio.sleep(0.5)  # the hashes are under way
    waiting = hashing._waiting  # logins waiting for their check in the hashing process
    latencies = []
    for _ in range(5):
        t0 = time.monotonic()
        fut: Future = database.submit(lambda s: s.add(AuditEvent(actor="recorder", action="answer.heard")))
        await asyncio.wrap_future(fut)
        latencies.append(time.monotonic() - t0)
        await asyncio.sleep(0.1)
    statuses = await burst
    assert statuses == [401] * 8
    assert waiting, "no password was being checked during the writes: the test proves nothing"
    assert max(latencies) < 1.0, [round(x, 2) for x in latencies]


async def test_the_language_link_redirects_only_to_local_paths(client: TestClient, database: Database) -> None:
    hostile = ["/%09/evil.example/path", "//evil.example", "/\\evil.example", "/%5Cevil.example", "/%0A/evil.example",
               "/%0D/evil.example", "/%00/evil.example", "/%20/evil.example", "https://evil.example",
               "javascript:alert(1)", "/%E2%80%AE/evil.example", "evil.example", "/%09%09/evil.example"]
    for target in hostile:
        resp = await client.get(f"/lang/en-US?next={target}", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/", (target, resp.headers.get("Location"))
    resp = await client.get("/lang/zh-CN?next=/campaigns/3/results%3Fstate%3Dpending", allow_redirects=False)
    assert resp.headers["Location"] == "/campaigns/3/results?state=pending"


async def test_numbers_in_the_query_beyond_any_id_are_400_not_500(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    huge = "99999999999999999999"
    for path in (f"/queue?back={huge}", "/queue?back=²", f"/dashboard?campaign={huge}", "/dashboard?campaign=²",
                 f"/dashboard.json?campaign={huge}", f"/campaigns/1/results?offset={huge}",
                 "/campaigns/1/results?offset=٣", f"/queue?back={'9' * 5000}"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 400, (path, resp.status)
    assert (await client.get("/queue?back=2147483647")).status == 200  # the largest id: no such case, no notice
