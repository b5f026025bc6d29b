"""The do-not-call page, retries and priority on the campaign page, Chinese usernames."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console import auth
from storage.db import Database
from storage.models import AuditEvent, Campaign, DoNotCall, Person

from .conftest import csrf_of, login
from .seed import add_users

ZH = {"Accept-Language": "zh-CN"}


def _campaign(database: Database) -> int:
    def write(s):
        c = Campaign(name="第一批", status="running")
        s.add(c)
        s.flush()
        s.add(Person(campaign_id=c.id, name="张三", phone="+8613800138000"))
        return c.id

    return database.run(write)


async def test_do_not_call_page_adds_masks_and_removes(client: TestClient, database: Database) -> None:
    cid = _campaign(database)
    add_users(database, ("王芳", "operator"), ("admin1", "admin"))
    await login(client, "王芳")
    token = await csrf_of(client, "/dnc")
    bad = await client.post("/dnc", data={"csrf": token, "phone": "12ab", "reason": ""}, headers=ZH)
    text = await bad.text()
    assert bad.status == 400 and "不是有效的电话号码" in text and 'value="12ab"' in text
    ok = await client.post("/dnc", data={"csrf": token, "phone": "138 0013 8000", "reason": "本人致电要求"},
                           headers=ZH)
    page = await ok.text()
    assert ok.status == 200 and "+86138****8000" in page and "13800138000" not in page and "本人致电要求" in page
    assert 'lang="zh-CN"' in page and "免打扰名单" in page and "长期" in page
    assert "移出" not in page  # an operator adds; only an admin takes a number off
    person = database.run(lambda s: s.exec(select(Person).where(Person.campaign_id == cid)).one(), write=False)
    assert person.state == "do_not_call"
    entry = database.run(lambda s: s.exec(select(DoNotCall)).one(), write=False)
    assert (await client.post("/dnc/remove", data={"csrf": token, "entry": str(entry.id)})).status == 403
    await login(client, "admin1")
    token = await csrf_of(client, "/dnc")
    gone = await client.post("/dnc/remove", data={"csrf": token, "entry": str(entry.id)}, headers=ZH)
    assert gone.status == 200 and "号码已移出名单" in await gone.text()
    assert database.run(lambda s: s.exec(select(DoNotCall)).all(), write=False) == []
    audit = database.run(lambda s: [(e.actor, e.action, e.detail) for e in s.exec(select(AuditEvent)).all()
                                    if e.action.startswith("dnc.")], write=False)
    assert [(a, b) for a, b, _ in audit] == [("王芳", "dnc.add"), ("admin1", "dnc.remove")]
    assert all("138" not in d for _, _, d in audit)


async def test_retries_and_priority_are_editable(client: TestClient, database: Database) -> None:
    cid = _campaign(database)
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{cid}", headers=ZH)).text()
    assert 'name="retry_no_answer_max" value="4"' in page and 'name="retry_no_answer_delays" value="30, 120, 240"' in page
    assert "每次间隔（分钟）" in page
    token = await csrf_of(client, f"/campaigns/{cid}")
    form = {"csrf": token, "window_start": "09:00", "window_end": "20:00", "timezone": "Asia/Shanghai",
            "concurrency": "4", "priority": "2"}
    for outcome, most, waits in (("no_answer", "3", "10，60"), ("busy", "4", "10, 30, 60"), ("congestion", "5", "5 15 30"),
                                 ("declined", "2", "240"), ("machine", "3", "120, 240"), ("hung_up", "3", "60, 180"),
                                 ("failed", "3", "5, 30")):
        form[f"retry_{outcome}_max"], form[f"retry_{outcome}_delays"] = most, waits
    bad = await client.post(f"/campaigns/{cid}/settings", data={**form, "retry_busy_max": "0"}, headers=ZH)
    assert bad.status == 400 and "拨打次数：1 到 20 之间的整数（占线）" in await bad.text()
    bad = await client.post(f"/campaigns/{cid}/settings", data={**form, "priority": "x"}, headers=ZH)
    assert bad.status == 400 and "优先级" in await bad.text()
    ok = await client.post(f"/campaigns/{cid}/settings", data=form, allow_redirects=False)
    assert ok.status == 303
    camp = database.run(lambda s: s.get(Campaign, cid), write=False)
    assert camp.priority == 2
    assert camp.retry_policy["no_answer"] == {"max_attempts": 3, "delays": [600, 3600]}
    assert camp.retry_policy["congestion"]["delays"] == [300, 900, 1800]
    detail = database.run(lambda s: [e.detail for e in s.exec(select(AuditEvent)).all()
                                     if e.action == "campaign.settings"], write=False)
    assert detail == ["changed: retry_policy,priority"]


def test_chinese_usernames_one_spelling(database: Database) -> None:
    database.run(lambda s: auth.add_user(s, "王芳", "operator", "a-long-password-1"))
    assert auth.check_username(" ＷangFang ") == "wangfang"
    assert auth.check_username("阿依·买买提") == "阿依·买买提"
    for bad in ("王", "王 芳", "<b>", "王芳😀"):
        try:
            auth.check_username(bad)
        except auth.AccountError:
            continue
        raise AssertionError(bad)
