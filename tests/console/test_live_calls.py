"""The campaign page's live view: calls dialling or in progress, with step, duration and last words."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from storage.db import Database
from storage.models import Attempt, Campaign, Person, Turn, utcnow

from .conftest import login
from .seed import add_users

ZH = {"Accept-Language": "zh-CN"}


async def test_live_view_lists_calls_in_progress(client: TestClient, database: Database) -> None:
    def build(s):
        camp = Campaign(name="实时", status="running")
        s.add(camp)
        s.flush()
        a, b, c = (Person(campaign_id=camp.id, name=n, phone=f"+86139000000{i:02d}", state="in_progress")
                   for i, n in enumerate(("张三", "李四", "王五")))
        s.add_all([a, b, c])
        s.flush()
        start = utcnow() - timedelta(seconds=75)
        talking = Attempt(person_id=a.id, campaign_id=camp.id, phone=a.phone, state="in_call", started_at=start)
        ringing = Attempt(person_id=b.id, campaign_id=camp.id, phone=b.phone, state="dialling", started_at=utcnow())
        over = Attempt(person_id=c.id, campaign_id=camp.id, phone=c.phone, state="ended", started_at=start,
                       ended_at=utcnow(), outcome="completed")
        s.add_all([talking, ringing, over])
        s.flush()
        for seq, (who, text, kind, step) in enumerate((("bot", "请问您是张三本人吗？", "speech", "identity"),
                                                       ("caller", "dtmf:1", "dtmf", "identity"),
                                                       ("bot", "请问您的健康码是什么颜色？", "speech", "health_code"))):
            s.add(Turn(attempt_id=talking.id, seq=seq, speaker=who, text=text, kind=kind, step=step))
        return camp.id

    cid = database.run(build)
    add_users(database, ("admin1", "admin"), ("operator1", "operator"))
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{cid}", headers=ZH)).text()
    assert "正在进行的通话" in page and "暂不支持监听" in page
    data = await (await client.get(f"/campaigns/{cid}/live.json", headers=ZH)).json()
    calls = {c["name"]: c for c in data["calls"]}
    assert set(calls) == {"张三", "李四"}
    minutes, seconds = calls["张三"]["duration"].split(":")
    assert calls["张三"]["step"] == "健康码" and 75 <= int(minutes) * 60 + int(seconds) < 600 and len(seconds) == 2
    assert [t["text"] for t in calls["张三"]["turns"]] == ["请问您是张三本人吗？", "按键 1", "请问您的健康码是什么颜色？"]
    assert calls["张三"]["turns"][1]["who"] == "居民"
    await login(client, "operator1")
    assert (await client.get(f"/campaigns/{cid}/live.json")).status == 403
