"""RELIABILITY.md console rows that had no test of their own: no state change on GET (every
route that changes something answers GET with 405 and changes nothing), and personal pages
are never cached."""

from __future__ import annotations

import json
import re

from aiohttp.test_utils import TestClient
from sqlmodel import select

from storage.db import Database
from storage.models import AuditEvent, Campaign, DialogVersion, DoNotCall, Escalation, User, WebSession

from .conftest import login
from .seed import add_users, seed_cases


def _state(db: Database) -> dict:
    def read(s):
        return {
            "campaigns": sorted((c.id, c.status, c.concurrency) for c in s.exec(select(Campaign)).all()),
            "users": sorted((u.username, u.role, u.disabled) for u in s.exec(select(User)).all()),
            "cases": sorted((e.id, e.status, e.claimed_by) for e in s.exec(select(Escalation)).all()),
            "dnc": len(s.exec(select(DoNotCall)).all()),
            "dialogs": sorted((d.id, d.active) for d in s.exec(select(DialogVersion)).all()),
            "sessions": len(s.exec(select(WebSession)).all()),
            "audit": sorted(a.action for a in s.exec(select(AuditEvent)).all()),
        }

    return db.run(read, write=False)


def _concrete(path: str, ids: dict[str, int]) -> str:
    """A route's canonical path with real ids in its placeholders."""
    def fill(m: re.Match) -> str:
        name = m.group(1).split(":")[0]
        return str(ids.get(name, 1)) if name.endswith("_id") or name in ("rid",) else {
            "action": "cancel", "slug": "verification.zh-CN"}.get(name, "x")

    return re.sub(r"\{([^}]+)\}", fill, path)


async def test_no_route_changes_anything_on_get(client: TestClient, database: Database) -> None:
    users = add_users(database, ("admin1", "admin"), ("op1", "operator"))
    seeded = seed_cases(database)
    ids = {"campaign_id": seeded["campaign"], "case_id": seeded["cases"][0], "user_id": users["op1"],
           "version_id": 1, "turn_id": 1}
    await login(client, "admin1")
    post_only = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if path is None:
            continue
        methods = {r.method for r in route.resource}
        if "POST" in methods and "GET" not in methods:
            post_only.add(_concrete(path, ids))
    assert {"/logout", f"/cases/{ids['case_id']}/claim", f"/campaigns/{ids['campaign_id']}/cancel",
            "/dialogs/publish", "/dnc/remove", f"/users/{users['op1']}/disabled"} <= post_only  # the walk found them
    before = _state(database)
    for path in sorted(post_only):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status in (404, 405), f"GET {path} -> {resp.status}"
    assert _state(database) == before
    assert (await client.get("/queue", allow_redirects=False)).status == 200  # still logged in


async def test_personal_pages_and_exports_are_not_cached(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    await login(client, "admin1")
    for path in (f"/cases/{seeded['cases'][0]}", f"/campaigns/{seeded['campaign']}",
                 f"/campaigns/{seeded['campaign']}/results", f"/campaigns/{seeded['campaign']}/export.csv",
                 "/queue.json", "/dashboard"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 200, path
        assert resp.headers.get("Cache-Control") == "no-store", path
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path


async def test_every_page_showing_a_person_writes_an_audit_row_without_the_data(client: TestClient,
                                                                               database: Database) -> None:
    """Found by walking the pages: the queue (page, JSON, stream), the campaign page and its live
    calls list names but wrote no audit row; the case page, results and export did."""
    from storage.models import Attempt, AttemptState, Person

    from .seed import PEOPLE

    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    camp = seeded["campaign"]

    def live_call(s):  # one call in progress, so the live list names its person
        person = s.exec(select(Person).where(Person.campaign_id == camp)).first()
        s.add(Attempt(person_id=person.id, campaign_id=camp, phone=person.phone, state=AttemptState.IN_CALL))

    database.run(live_call)
    await login(client, "admin1")
    secrets = [x for p in PEOPLE for x in (p["name"], p["phone"], p["phone"][3:], p["expected_address"])]
    pages = ["/queue", "/queue.json", f"/cases/{seeded['cases'][0]}", f"/campaigns/{camp}",
             f"/campaigns/{camp}/live.json", f"/campaigns/{camp}/results", f"/campaigns/{camp}/export.csv"]
    audited = []
    for path in pages:
        before = len(_state(database)["audit"])
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 200, path
        body = json.dumps(await resp.json(), ensure_ascii=False) if path.endswith(".json") else await resp.text()
        assert any(x in body for x in secrets), f"{path} shows nobody: the walk checks nothing there"
        if len(_state(database)["audit"]) > before:
            audited.append(path)
    async with client.get("/queue/stream") as stream:  # the queue page's live updates
        event = (await stream.content.readuntil(b"\n\n")).decode().split("data: ", 1)[1]
        assert any(x in json.dumps(json.loads(event), ensure_ascii=False) for x in secrets)
    assert audited == pages
    actions = _state(database)["audit"]
    assert "queue.stream" in actions
    rows = database.run(lambda s: list(s.exec(select(AuditEvent)).all()), write=False)
    for row in rows:  # who, what, when, from where: never the data itself
        assert row.actor and row.at and row.source
        text = f"{row.action} {row.target_type} {row.target_id} {row.detail}"
        assert not [x for x in secrets if x in text], text


async def test_a_polled_view_is_audited_once_a_minute_not_per_poll(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    camp = seed_cases(database)["campaign"]
    await login(client, "admin1")
    for _ in range(5):
        assert (await client.get(f"/campaigns/{camp}/live.json")).status == 200
    assert _state(database)["audit"].count("campaign.live_view") == 1
