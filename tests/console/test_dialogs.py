"""Dialog editor endpoints: lint with line numbers, the simulator chat, publish and roll back."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from storage.db import Database
from storage.models import AuditEvent, DialogVersion

from .conftest import REPO, csrf_of, login
from .seed import add_users

EN = (REPO / "dialogs" / "verification.en-US.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


async def admin(client: TestClient, database: Database) -> str:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    return await csrf_of(client, "/dialogs")


async def test_lint_reports_errors_at_their_lines(client: TestClient, database: Database) -> None:
    token = await admin(client, database)
    broken = EN.replace("    next: residence", "    next: no_such_step", 1)
    resp = await client.post("/dialogs/lint", json={"source": broken}, headers={"X-CSRF-Token": token})
    body = await resp.json()
    assert body["ok"] is False
    assert any(e["line"] == line_of(broken, "next: no_such_step") and "no_such_step" in e["message"]
               for e in body["errors"])
    bad_yaml = EN.replace("start: greeting", "start: [greeting", 1)
    body = await (await client.post("/dialogs/lint", json={"source": bad_yaml},
                                    headers={"X-CSRF-Token": token})).json()
    assert body["ok"] is False and body["errors"][0]["line"] >= line_of(bad_yaml, "start: [greeting")
    ok = await (await client.post("/dialogs/lint", json={"source": EN}, headers={"X-CSRF-Token": token})).json()
    assert ok == {"ok": True, "errors": [], "version": ok["version"]} and len(ok["version"]) == 12


async def test_simulator_runs_the_draft_like_veribot_simulate(client: TestClient, database: Database) -> None:
    token = await admin(client, database)
    h = {"X-CSRF-Token": token}
    start = await (await client.post("/dialogs/simulate", json={"source": EN, "person_name": "Sam Doe"},
                                     headers=h)).json()
    assert start["ok"] and not start["finished"]
    assert any(line["who"] == "bot" and "Sam Doe" in line["text"] for line in start["lines"])
    chat = start["chat"]
    answers = ["yes", "12 Garden Road, Chengguan District", "green", "no", "2", "negative", "yes"]
    state = start
    for answer in answers:
        state = await (await client.post("/dialogs/simulate/answer", json={"chat": chat, "answer": answer},
                                         headers=h)).json()
        if state["finished"]:
            break
    assert state["finished"], state
    record = state["record"]
    assert record["outcome"] == "completed"
    assert record["slots"]["health_code"] == "green" and record["slots"]["nat_count"] == 2
    # the chat is over; a further answer says so
    gone = await client.post("/dialogs/simulate/answer", json={"chat": chat, "answer": "hello"}, headers=h)
    assert gone.status == 404


async def test_simulator_refuses_a_broken_draft(client: TestClient, database: Database) -> None:
    token = await admin(client, database)
    broken = EN.replace("start: greeting", "start: nowhere", 1)
    resp = await client.post("/dialogs/simulate", json={"source": broken}, headers={"X-CSRF-Token": token})
    assert resp.status == 422
    assert (await resp.json())["errors"]


async def test_publish_and_roll_back(client: TestClient, database: Database) -> None:
    token = await admin(client, database)
    first = await client.post("/dialogs/publish", data={"csrf": token, "source": EN}, allow_redirects=False)
    assert first.status == 303 and first.headers["Location"].startswith("/dialogs/verification.en-US")
    edited = EN.replace("Am I speaking with {name}?", "Hello, am I speaking with {name}?", 1)
    await client.post("/dialogs/publish", data={"csrf": token, "source": edited}, allow_redirects=False)
    rows = database.run(lambda s: list(s.exec(select(DialogVersion)).all()), write=False)
    assert len(rows) == 2 and [r.active for r in sorted(rows, key=lambda r: r.id)] == [False, True]
    assert all(r.published_by == "admin1" for r in rows)
    broken = await client.post("/dialogs/publish", data={"csrf": token, "source": "name: x"})
    assert broken.status == 422
    assert len(database.run(lambda s: list(s.exec(select(DialogVersion)).all()), write=False)) == 2
    old = min(rows, key=lambda r: r.id)
    back = await client.post(f"/dialogs/versions/{old.id}/activate", data={"csrf": token}, allow_redirects=False)
    assert back.status == 303
    rows = database.run(lambda s: list(s.exec(select(DialogVersion)).all()), write=False)
    assert [r.id for r in rows if r.active] == [old.id]
    editor = await (await client.get("/dialogs/verification.en-US")).text()
    assert "Hello, am I speaking" not in editor and old.version in editor
    actions = database.run(lambda s: [a.action for a in s.exec(select(AuditEvent)).all()], write=False)
    assert actions.count("dialog.publish") == 2 and "dialog.activate" in actions


async def test_dialog_list_shows_files_and_versions(client: TestClient, database: Database) -> None:
    await admin(client, database)
    page = await (await client.get("/dialogs")).text()
    assert "/dialogs/verification.zh-CN" in page and "/dialogs/verification.en-US" in page
    assert (await client.get("/dialogs/nope.xx-XX")).status == 404
