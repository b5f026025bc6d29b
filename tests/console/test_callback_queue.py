"""The queue tells operators which residents were promised a call back, and when it is overdue;
a transferred call's case says the operator who took it closes it."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from storage.db import Database
from storage.models import Attempt, Campaign, Person

from .conftest import login
from .seed import add_users, escalated_call

ZH = {"Accept-Language": "zh-CN"}


def _seed(database: Database) -> None:
    def build(s):
        camp = Campaign(name="回电", status="running")
        s.add(camp)
        s.flush()
        people = [Person(campaign_id=camp.id, name=n, phone=f"+861390000000{i}") for i, n in enumerate(("李一", "王二", "赵三"))]
        s.add_all(people)
        s.flush()
        late = escalated_call(s, camp, people[0], "requested_human", minutes_ago=152)  # promised 150 min ago
        late.detail = "caller asked for a person; callback promised"
        fresh = escalated_call(s, camp, people[1], "requested_human", minutes_ago=12)
        fresh.detail = "caller asked for a person; callback promised"
        moved = escalated_call(s, camp, people[2], "requested_human", minutes_ago=5)
        s.get(Attempt, moved.attempt_id).detail = "transferred"
        s.add_all([late, fresh])

    database.run(build)


async def test_callbacks_due_and_overdue_in_the_queue(client: TestClient, database: Database) -> None:
    _seed(database)
    add_users(database, ("operator1", "operator"))
    await login(client, "operator1")
    page = await (await client.get("/queue", headers=ZH)).text()
    assert page.count('class="overdue"') == 1
    assert re.search(r"逾期 (30|31) 分钟", page) and re.search(r"还剩 1 小时 (49|50) 分钟", page)
    assert "回电：居民要求人工" in page
    assert "已转接人工：由接听的工作人员认领并关闭" in page
    rows = {c["name"]: c for c in (await (await client.get("/queue.json", headers=ZH)).json())["cases"]}
    assert rows["李一"]["overdue"] and not rows["王二"]["overdue"] and not rows["赵三"]["callback"]
