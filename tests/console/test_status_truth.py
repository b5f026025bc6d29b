"""Issue 22 item 7 (console clarity): campaign status counts people by their final state, its "why"
is true for a number resting after a wrong-number answer elsewhere and for a list that is all
do-not-call, test calls stay out of the dashboard, and `campaigns status` speaks Chinese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.cli import main
from bot.config import load_config
from bot.console import campaigns as camps
from storage.db import Database
from storage.models import Attempt, AttemptState, Campaign, DoNotCall, Person, PersonState

from .conftest import login
from .seed import add_users

NOON = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def _campaign(database: Database, name: str, states: list[str], **person: object) -> int:
    def build(s):
        camp = Campaign(name=name, status="running", window_start="09:00", window_end="20:00",
                        timezone="Asia/Shanghai")
        s.add(camp)
        s.flush()
        for i, state in enumerate(states):
            p = Person(campaign_id=camp.id, name=f"人员{i}", phone=f"+86139000000{i:02d}", state=state, **person)
            s.add(p)
            s.flush()
            if state not in (PersonState.PENDING, PersonState.DO_NOT_CALL):
                s.add(Attempt(person_id=p.id, campaign_id=camp.id, phone=p.phone, state=AttemptState.ENDED,
                              outcome=state, network_outcome="answered", started_at=NOON, ended_at=NOON))
        return camp.id
    return database.run(build)


def _why(database: Database, camp_id: int, now: datetime = NOON) -> camps.Why:
    def go(s):
        camp = s.get(Campaign, camp_id)
        return camps.explain(s, camp, camps.counts(s, camp), now)
    return database.run(go, write=False)


def test_a_number_resting_after_a_wrong_number_elsewhere_is_not_waiting_for_a_retry(database: Database) -> None:
    month = NOON + timedelta(days=30)
    camp_id = _campaign(database, "复核", [PersonState.PENDING], next_attempt_at=month)
    database.run(lambda s: s.add(DoNotCall(phone="+8613900000000", kind="wrong_number", expires_at=month,
                                           campaign_id=camp_id + 100, added_by="bot")))
    why = _why(database, camp_id)
    assert "wrong number" in why.msgid and "retry" not in why.msgid
    assert why.params["time"] == "2027-01-03 12:00"


def test_a_do_not_call_only_list_is_not_finished(database: Database) -> None:
    camp_id = _campaign(database, "免打扰名单", [PersonState.DO_NOT_CALL] * 3)
    why = _why(database, camp_id)
    assert "do-not-call" in why.msgid and "Finished" not in why.msgid and why.params == {"n": 3}


async def test_the_list_counts_completed_and_escalated_apart(client: TestClient, database: Database) -> None:
    _campaign(database, "第三批", [PersonState.COMPLETED] * 3 + [PersonState.ESCALATED] * 2 + [PersonState.WRONG_NUMBER])
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    page = await (await client.get("/campaigns", headers={"Accept-Language": "zh-CN"})).text()
    assert '<th>已完成</th>' in page
    assert 'class="n-completed">3<' in page and 'class="n-escalated">2<' in page


async def test_test_calls_are_not_in_the_dashboard(client: TestClient, database: Database) -> None:
    _campaign(database, "第四批", [PersonState.COMPLETED])
    _campaign(database, "第四批 · 测试", [PersonState.COMPLETED, PersonState.ESCALATED])
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    figures = await (await client.get("/dashboard.json")).json()
    assert figures["ended_calls"] == 1 and figures["people"] == 1
    page = await (await client.get("/dashboard")).text()
    assert "第四批 · 测试" not in page


def test_campaigns_status_speaks_chinese_and_keeps_its_json_keys(tmp_path, monkeypatch, capsys) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "c1"]) == 0
    capsys.readouterr()
    assert main(["campaigns", "status", "c1"]) == 0
    out = capsys.readouterr().out
    assert "原因: 尚未开始" in out and "人数: 1" in out and "草稿" in out
    assert main(["campaigns", "status", "c1", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert {"people", "pending", "completed", "escalated", "failed", "why"} <= set(data)
    assert data["why"].startswith("尚未开始") and data["status"] == "draft"
    db = Database.from_config(load_config(cfg))
    assert db.run(lambda s: s.exec(select(Campaign)).one().name, write=False) == "c1"
    db.dispose()
