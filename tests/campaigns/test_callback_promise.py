"""A resident who asks for a person when no operator line is configured is told the truth (a call
back within [agency] callback_minutes), and the case says a call back was promised."""

from __future__ import annotations

from campaign_fakes import Clock, TextRunner, add_campaign, settle
from sqlmodel import select

from bot.campaigns.dialing.dialer import Dialer
from bot.settings import AgencySettings
from storage.models import Escalation, Turn


async def _call(db, operator_line: str) -> tuple[Escalation, list[str]]:
    add_campaign(db, people=[("+8613800000001", 1)])
    variables = {**AgencySettings(callback_minutes=90).variables, "operator_line": operator_line}
    dialer = Dialer(db, TextRunner({"+8613800000001": ["是", "我要找人工"]}), worker_id="w1", clock=Clock(),
                    variables=variables)
    await dialer.tick()
    await settle(dialer)
    esc = db.run(lambda s: s.exec(select(Escalation)).one(), write=False)
    said = db.run(lambda s: [t.text for t in s.exec(select(Turn).where(Turn.speaker == "bot")).all()], write=False)
    return esc, said


async def test_no_operator_line_promises_a_call_back(db):
    esc, said = await _call(db, "")
    assert esc.reason == "requested_human" and "callback promised" in esc.detail
    assert any("工作人员将在1小时30分钟内给您回电" in t for t in said)
    assert not any("转接" in t for t in said)


async def test_with_an_operator_line_the_bot_transfers(db):
    esc, said = await _call(db, "1")
    assert "callback promised" not in esc.detail
    assert any("正在为您转接人工" in t for t in said)
