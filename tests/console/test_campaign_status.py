"""A campaign page explains why nothing is dialling, shows each call's failure reason, and
offers only the actions the campaign's state allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from bot.console import campaigns as camps
from storage.db import Database
from storage.models import Attempt, AttemptState, Campaign, Person, PersonState

from .conftest import login
from .seed import add_users

NOON_SHANGHAI = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def make(database: Database, status: str = "running", people: int = 2, **person: object) -> int:
    def build(s):
        n = len(s.exec(__import__("sqlmodel").select(Campaign)).all())
        camp = Campaign(name=f"核查-{n}", status=status, window_start="09:00", window_end="20:00",
                        timezone="Asia/Shanghai", concurrency=2)
        s.add(camp)
        s.flush()
        for i in range(people):
            s.add(Person(campaign_id=camp.id, name=f"人员{i}", phone=f"+86139000000{i:02d}", **person))
        return camp.id

    return database.run(build)


def why(database: Database, camp_id: int, now: datetime) -> camps.Why:
    def explain(s):
        camp = s.get(Campaign, camp_id)
        return camps.explain(s, camp, camps.counts(s, camp), now)

    return database.run(explain, write=False)


def test_each_reason_for_not_dialling(database: Database) -> None:
    assert "Paused" in why(database, make(database, "paused"), NOON_SHANGHAI).msgid
    assert "Not started" in why(database, make(database, "draft"), NOON_SHANGHAI).msgid
    assert "upload" in why(database, make(database, people=0), NOON_SHANGHAI).msgid
    night = NOON_SHANGHAI + timedelta(hours=11)  # 23:00 local
    outside = why(database, make(database), night)
    assert "Outside the calling window" in outside.msgid and outside.params["time"] == "2026-12-05 09:00"
    later = NOON_SHANGHAI + timedelta(hours=2)
    waiting = why(database, make(database, next_attempt_at=later), NOON_SHANGHAI)
    assert "waiting for a retry" in waiting.msgid and waiting.params["time"] == "2026-12-04 14:00"
    calling = why(database, make(database), NOON_SHANGHAI)
    assert calling.dialling and calling.params == {"lines": 0, "max": 2, "due": 2}


async def test_no_trunk_is_named_on_the_page_with_each_attempts_reason(client: TestClient, database: Database) -> None:
    camp_id = make(database, people=1)

    def failed_call(s):
        person = s.exec(__import__("sqlmodel").select(Person).where(Person.campaign_id == camp_id)).one()
        s.add(Attempt(person_id=person.id, campaign_id=camp_id, phone=person.phone, state=AttemptState.ENDED,
                      network_outcome="failed", detail="a bare number needs [telephony] trunk",
                      started_at=NOON_SHANGHAI, ended_at=NOON_SHANGHAI))

    database.run(failed_call)
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{camp_id}", headers={"Accept-Language": "zh-CN"})).text()
    assert "未配置 SIP 中继" in page  # why nothing is dialling, and the attempt's own reason
    assert page.count("SIP 中继") >= 2 and "2026-12-04 12:00" in page and "Asia/Shanghai" in page
    progress = await (await client.get(f"/campaigns/{camp_id}/progress.json")).json()
    assert "no SIP trunk" in progress["why"] and progress["status_label"] == "Running"


async def test_a_done_campaign_offers_no_pause_or_cancel(client: TestClient, database: Database) -> None:
    camp_id = make(database, "done", people=1, state=PersonState.COMPLETED)
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{camp_id}")).text()
    assert 'id="btn-pause"' not in page and 'id="btn-cancel"' not in page
    assert "Finished: everyone has been called." in page


async def test_the_calling_window_and_lines_can_be_changed(client: TestClient, database: Database) -> None:
    from sqlmodel import select

    from storage.models import AuditEvent

    from .conftest import csrf_of

    camp_id = make(database)
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, f"/campaigns/{camp_id}")
    bad = await client.post(f"/campaigns/{camp_id}/settings", headers={"Accept-Language": "zh-CN"}, data={
        "csrf": token, "window_start": "9点", "window_end": "20:00", "timezone": "Asia/Shanghai", "concurrency": "2"})
    assert bad.status == 400 and "HH:MM" in await bad.text() and "拨打时段" in await bad.text()
    ok = await client.post(f"/campaigns/{camp_id}/settings", allow_redirects=False, data={
        "csrf": token, "window_start": "8:30", "window_end": "21:00", "timezone": "Asia/Shanghai", "concurrency": "6"})
    assert ok.status == 303
    camp = database.run(lambda s: s.get(Campaign, camp_id), write=False)
    assert (camp.window_start, camp.window_end, camp.concurrency) == ("08:30", "21:00", 6)
    events = database.run(lambda s: [e.detail for e in s.exec(select(AuditEvent)).all()
                                     if e.action == "campaign.settings"], write=False)
    assert events == ["changed: window_start,window_end,concurrency"]
