"""Issue 22 item 7: the agency's official number and badge are editable by an admin in the console
(audited, refused when unusable, admins only) and the dialer's calls say them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.scripts import agency_overrides
from bot.console.context import CONSOLE
from storage.db import Database
from storage.models import AuditEvent, Campaign, Person

from .conftest import REPO, csrf_of, login
from .seed import add_users
from .visible import visible_text

ZH = {"Accept-Language": "zh-CN"}


async def test_an_admin_sets_the_number_and_badge_audited(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"), ("op1", "operator"))
    await login(client, "op1")
    assert (await client.get("/agency")).status == 403
    await login(client, "admin1")
    token = await csrf_of(client, "/agency")
    bad = await client.post("/agency", data={"csrf": token, "callback_number": "call us", "badge": "A1"}, headers=ZH)
    assert bad.status == 400 and "官方电话：3 至 20 位数字" in visible_text(await bad.text())
    ok = await client.post("/agency", data={"csrf": token, "callback_number": "0931-12345", "badge": "GA2031"},
                           headers=ZH)
    assert ok.status == 200 and "已保存" in visible_text(await ok.text())
    var_dir = client.server.app[CONSOLE].var_dir
    assert agency_overrides.load(var_dir) == {"callback_number": "0931-12345", "badge": "GA2031"}
    assert client.server.app[CONSOLE].variables["badge"] == "GA2031"  # the console's own test calls
    events = database.run(lambda s: [e for e in s.exec(select(AuditEvent)).all() if e.action == "agency.settings"],
                          write=False)
    assert len(events) == 1 and events[0].actor == "admin1" and "badge" in events[0].detail
    page = await (await client.get("/audit", headers=ZH)).text()
    assert "修改官方电话和工号" in visible_text(page)


class _Runner:
    """Records the variables a call is placed with (a dialer unit test: no line)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def run(self, request: Any) -> CallResult:
        self.seen.append(dict(request.variables))
        return CallResult(network=NetworkOutcome.BUSY)


async def test_the_dialer_calls_with_the_saved_number_and_badge(database: Database, tmp_path) -> None:
    agency_overrides.save(tmp_path, {"callback_number": "0931-12345", "badge": "GA2031"})

    def build(s):
        camp = Campaign(name="核验", status="running", window_start="00:00", window_end="00:00",
                        dialog_path=str(REPO / "dialogs" / "verification.zh-CN.yaml"))
        s.add(camp)
        s.flush()
        s.add(Person(campaign_id=camp.id, name="张三", phone="+8613800138000"))
    database.run(build)
    runner = _Runner()
    dialer = Dialer(database, runner, variables={"agency": "测试局", "callback_number": "96110", "badge": ""},
                    clock=lambda: datetime(2026, 12, 7, 3, 0, tzinfo=UTC),
                    live_variables=lambda: agency_overrides.load(tmp_path))
    await dialer.tick()
    await dialer.drain(5.0)
    assert runner.seen and runner.seen[0]["callback_number"] == "0931-12345" and runner.seen[0]["badge"] == "GA2031"
