"""The campaign page's test call: the campaign's script, now, recorded in a companion test campaign."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.calls import CallRequest, CallResult, NetworkOutcome
from bot.console.context import CONSOLE
from bot.dialog.events import Utterance
from storage.db import Database
from storage.models import Attempt, AuditEvent, Campaign, Person, Turn

from .conftest import csrf_of, login
from .seed import add_users

ZH = {"Accept-Language": "zh-CN"}


class SaysYesToEverything:
    def __init__(self) -> None:
        self.requests: list[CallRequest] = []

    async def run(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        session = request.session()
        session.start()
        for _ in range(12):
            if session.finished:
                break
            session.feed(Utterance("是", 0.95))
        return CallResult(NetworkOutcome.ANSWERED, record=session.close(), sip_status=200)


async def test_test_call_to_a_softphone(client: TestClient, database: Database) -> None:
    cid = database.run(lambda s: (s.add(c := Campaign(name="第一批", status="draft")), s.flush(), c.id)[-1])
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, f"/campaigns/{cid}")
    url = f"/campaigns/{cid}/test-call"
    none = await client.post(url, data={"csrf": token, "target": "sip:test@127.0.0.1:5070"}, headers=ZH)
    assert none.status == 409 and "veribot serve" in await none.text()
    runner = SaysYesToEverything()
    client.server.app[CONSOLE].call_runner = runner
    bad = await client.post(url, data={"csrf": token, "target": "sip:<b>@x"}, headers=ZH)
    assert bad.status == 400 and "SIP 地址" in await bad.text()
    ok = await client.post(url, data={"csrf": token, "target": "sip:test@127.0.0.1:5070"}, allow_redirects=False)
    assert ok.status == 303
    test_id = int(ok.headers["Location"].split("?")[0].rsplit("/", 1)[1])
    await asyncio.gather(*client.server.app[CONSOLE].test_calls)
    assert runner.requests[0].phone == "sip:test@127.0.0.1:5070"
    test = database.run(lambda s: s.get(Campaign, test_id), write=False)
    assert test.name == "第一批 · 测试" and test.status == "draft"
    att = database.run(lambda s: s.exec(select(Attempt)).one(), write=False)
    assert (att.campaign_id, att.state) == (test_id, "ended") and att.outcome in ("completed", "escalated")
    assert database.run(lambda s: s.exec(select(Turn).where(Turn.attempt_id == att.id)).all(), write=False)
    assert database.run(lambda s: s.exec(select(Person).where(Person.campaign_id == cid)).all(), write=False) == []
    page = await (await client.get(ok.headers["Location"], headers=ZH)).text()
    assert "测试电话正在拨出" in page
    audit = database.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "campaign.test_call")).one(),
                         write=False)
    assert audit.actor == "admin1" and "127.0.0.1" not in audit.detail
