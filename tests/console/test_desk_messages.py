"""Issue 22 item 7 (console clarity): a message after 发布, adding a user and 办结; one version id for
the same text however the browser posts it; results rows and the latest calls open their transcript,
and the latest calls come with the progress the page polls."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from storage.db import Database

from .conftest import REPO, claim_seeded_case, csrf_of, login
from .seed import PEOPLE, add_users, seed_cases
from .visible import visible_text

ZH = {"Accept-Language": "zh-CN"}


async def test_adding_a_user_says_so(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/users")
    resp = await client.post("/users", data={"csrf": token, "username": "wang.op", "role": "operator",
                                             "password": "a long passphrase", "password2": "a long passphrase"},
                             headers=ZH)
    assert resp.status == 200 and "已添加用户 wang.op（坐席）" in visible_text(await resp.text())


async def test_closing_a_case_says_so(client: TestClient, database: Database) -> None:
    case_id, token = await claim_seeded_case(client, database)
    resp = await client.post(f"/cases/{case_id}/resolve", headers=ZH, data={
        "csrf": token, "action": "close", "slot_notice_ack": "yes", "slot_health_code": "green"})
    assert resp.status == 200 and f"工单 #{case_id} 已办结" in visible_text(await resp.text())


async def test_publishing_says_so_and_the_same_text_keeps_one_version(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    text = (REPO / "dialogs" / "survey.zh-CN.yaml").read_text(encoding="utf-8")
    token = await csrf_of(client, "/dialogs")
    from bot.dialog.script import load_script

    file_version = load_script(REPO / "dialogs" / "survey.zh-CN.yaml").version
    crlf = text.replace("\n", "\r\n").rstrip("\r\n")  # as a browser's textarea posts it
    resp = await client.post("/dialogs/publish", data={"csrf": token, "source": crlf}, headers=ZH)
    page = await resp.text()
    assert resp.status == 200 and f"版本 {file_version} 已发布并启用" in visible_text(page)
    assert page.count(file_version) >= 2 and "active-version" in page


async def test_results_and_latest_calls_open_their_transcript(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    await login(client, "admin1")
    base = f"/campaigns/{seeded['campaign']}"
    page = await (await client.get(f"{base}/results", headers=ZH)).text()
    assert 'href="/calls/1"' in page and PEOPLE[0]["name"] in page
    call = await (await client.get("/calls/1", headers=ZH)).text()
    text = visible_text(call)
    assert "嗯 那个 不太清楚" in text and "健康码" in text and PEOPLE[0]["name"] in text
    assert (await client.get("/calls/999")).status == 404
    progress = await (await client.get(f"{base}/progress.json")).json()
    assert [a["id"] for a in progress["attempts"]] == [3, 2, 1] and progress["attempts"][0]["name"]
    assert 'href="/calls/3"' in await (await client.get(base)).text()
