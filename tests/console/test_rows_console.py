"""RELIABILITY.md console rows that had no test of their own: no state change on GET (every
route that changes something answers GET with 405 and changes nothing), and personal pages
are never cached."""

from __future__ import annotations

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
