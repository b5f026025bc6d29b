"""Contacts named on a tracing call become people of the linked follow-up (次密接) campaign:
created on first use, deduplicated by phone, with who named them kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.people.followups import followup_name, sources_of
from bot.dialog.script import load_script
from bot.simulate import run_text
from storage.models import Campaign, Person

ROOT = Path(__file__).resolve().parents[2]
SURVEY = load_script(ROOT / "dialogs" / "survey.zh-CN.yaml")
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}
WANG = "我 跟 我 老婆 王 芳 一起 吃 的 饭 她 手机 是 幺 三 八 一 二 三 四 五 六 七 八"
LI = "同事 李 明 他 手机 是 一 三 九 零 九 三 一 二 二 三 三"


async def _call(db, clock, campaign_id: int, contacts_answer: str):
    claim = db.run(lambda s: ops.claim_due(s, campaign_id, 1, "w1", clock, timedelta(seconds=600)))[0]
    record = run_text(SURVEY, claim.person, ["是 的", contacts_answer, "哪 都 没 去"], VARS).record
    await CallAttempt(db, claim, clock=clock).settle(CallResult(NetworkOutcome.ANSWERED, record=record,
                                                                 sip_status=200), RetryPolicy())
    return claim


def _people(db, name):
    def read(s):
        camp = s.exec(select(Campaign).where(Campaign.name == name)).first()
        if camp is None:
            return None, []
        return camp, list(s.exec(select(Person).where(Person.campaign_id == camp.id).order_by(Person.id)))
    return db.run(read, write=False)


async def test_named_contacts_land_in_a_followup_campaign_once_with_every_source(db):
    clock = Clock()
    cid = add_campaign(db, "城关区密接", people=[("+8613800000001", 1), ("+8613800000002", 1)])
    assert _people(db, followup_name("城关区密接"))[0] is None  # created on first use only
    first = await _call(db, clock, cid, f"{WANG} 还有 {LI}")
    camp, people = _people(db, "城关区密接 · 次密接")
    assert camp is not None and camp.status == "running" and camp.dialog_path
    assert [(p.name, p.phone, p.risk_category, p.priority) for p in people] == [
        ("王芳", "+8613812345678", "次密接", 2), ("李明", "+8613909312233", "次密接", 2)]
    src = db.run(lambda s: sources_of(s, people[0].id), write=False)
    assert [(x.source_person_id, x.source_attempt_id, x.source_campaign_id, x.relation) for x in src] == [
        (first.person_id, first.attempt_id, cid, "spouse")]

    second = await _call(db, clock, cid, LI)  # the second resident names 李明 too
    _, again = _people(db, "城关区密接 · 次密接")
    assert len(again) == 2  # no duplicate person
    src = db.run(lambda s: sources_of(s, people[1].id), write=False)
    assert [x.source_person_id for x in src] == [first.person_id, second.person_id]


async def test_a_contact_already_to_be_called_elsewhere_is_not_added_again(db):
    clock = Clock()
    other = add_campaign(db, "七里河区", people=[("+8613909312233", 5)])
    cid = add_campaign(db, "西固区", people=[("+8613800000003", 1)])
    claim = await _call(db, clock, cid, LI)
    camp, people = _people(db, "西固区 · 次密接")
    assert camp is not None and people == []
    _, there = _people(db, "七里河区")
    src = db.run(lambda s: sources_of(s, there[0].id), write=False)
    assert [(x.source_person_id, x.source_campaign_id) for x in src] == [(claim.person_id, cid)]
    assert other != cid


async def test_nobody_named_creates_nothing_and_a_followup_call_stays_in_its_campaign(db):
    clock = Clock()
    cid = add_campaign(db, "安宁区", people=[("+8613800000004", 1)])
    await _call(db, clock, cid, "没有 跟 谁 接触")
    assert _people(db, "安宁区 · 次密接")[0] is None
    fid = add_campaign(db, "红古区 · 次密接", people=[("+8613800000005", 2)])
    await _call(db, clock, fid, LI)
    _, people = _people(db, "红古区 · 次密接")
    assert [p.phone for p in people] == ["+8613800000005", "+8613909312233"]
    assert _people(db, "红古区 · 次密接 · 次密接")[0] is None
