"""Test data for the console: users, a campaign with people, and escalated calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.console import auth
from storage.db import Database
from storage.models import (
    Attempt,
    AttemptState,
    Campaign,
    Escalation,
    Person,
    PersonState,
    Result,
    Turn,
    utcnow,
)

PASSWORD = "correct horse battery"
# personal data the tests look for in logs and URLs
PEOPLE = [
    {"name": "张伟", "phone": "+8613912345678", "expected_address": "兰州市城关区张掖路1号", "priority": 1},
    {"name": "Li Na", "phone": "+8613987654321", "expected_address": "七里河区西津西路2号", "priority": 2},
    {"name": "Wang Fang", "phone": "+8613711112222", "expected_address": "安宁区3号", "priority": 5},
]


def add_users(db: Database, *names_roles: tuple[str, str]) -> dict[str, int]:
    ids = {}
    for name, role in names_roles:
        user = db.run(lambda s, n=name, r=role: auth.add_user(s, n, r, PASSWORD))
        ids[name] = user.id
    return ids


def escalated_call(s: Any, campaign: Campaign, person: Person, reason: str = "unresolved",
                   minutes_ago: int = 10) -> Escalation:
    """One ended attempt with a transcript, some slots, and its escalation."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    attempt = Attempt(person_id=person.id, campaign_id=campaign.id, phone=person.phone, state=AttemptState.ENDED,
                      started_at=at, ended_at=at + timedelta(minutes=2), network_outcome="answered",
                      dialog_name="verification", dialog_version="abc123def456", outcome="escalated",
                      escalation_reason=reason)
    s.add(attempt)
    s.flush()
    turns = [
        ("bot", f"您好，请问是{person.name}吗？", "identity", None, None),
        ("caller", "是的", "identity", {"value": "yes", "intent": None}, 0.93),
        ("bot", "请问您现在的健康码是什么颜色？", "health_code", None, None),
        ("caller", "嗯 那个 不太清楚", "health_code", {"value": None, "intent": None}, 0.41),
        ("bot", "我们会安排工作人员和您联系。", "health_code", None, None),
    ]
    for seq, (speaker, text, step, parse, conf) in enumerate(turns):
        s.add(Turn(attempt_id=attempt.id, seq=seq, speaker=speaker, text=text, step=step, parse=parse,
                   confidence=conf, at=at + timedelta(seconds=seq * 5)))
    s.add(Result(attempt_id=attempt.id, person_id=person.id, campaign_id=campaign.id, slot="identity",
                 value="yes", dialog_version="abc123def456"))
    esc = Escalation(attempt_id=attempt.id, person_id=person.id, campaign_id=campaign.id, reason=reason,
                     step="health_code", priority=person.priority, created_at=at + timedelta(minutes=2))
    s.add(esc)
    person.state = PersonState.ESCALATED
    s.add(person)
    s.flush()
    return esc


def seed_cases(db: Database) -> dict[str, Any]:
    """A new campaign with three people, each escalated once. Returns ids."""

    def build(s: Any) -> dict[str, Any]:
        n = len(s.exec(select(Campaign)).all()) + 1
        camp = Campaign(name=f"兰州-第{n}批", status="running")
        s.add(camp)
        s.flush()
        cases = []
        for i, p in enumerate(PEOPLE):
            person = Person(campaign_id=camp.id, **p)
            s.add(person)
            s.flush()
            cases.append(escalated_call(s, camp, person, minutes_ago=30 - i).id)
        return {"campaign": camp.id, "cases": cases}

    return db.run(build)


SURVEY_CONTACTS = [{"name": "王芳", "relation": "spouse", "phone": "+8613812345678"},
                   {"name": "李明", "relation": "colleague", "phone": None}]
SURVEY_PLACES = [{"place": "西关十字的超市", "when": "前天下午"}]


def seed_survey_case(db: Database) -> dict[str, Any]:
    """A tracing (survey.zh-CN) campaign with one person escalated after naming contacts and places."""
    from pathlib import Path

    from bot.dialog.script import load_script

    path = Path(__file__).resolve().parents[2] / "dialogs" / "survey.zh-CN.yaml"
    version = load_script(path).version

    def build(s: Any) -> dict[str, Any]:
        n = len(s.exec(select(Campaign)).all()) + 1
        camp = Campaign(name=f"流调-第{n}批", status="running", dialog_path=str(path), dialog_name="survey")
        s.add(camp)
        s.flush()
        person = Person(campaign_id=camp.id, name="赵敏", phone="+8613800001111", priority=1)
        s.add(person)
        s.flush()
        at = utcnow() - timedelta(minutes=5)
        attempt = Attempt(person_id=person.id, campaign_id=camp.id, phone=person.phone, state=AttemptState.ENDED,
                          started_at=at, ended_at=at + timedelta(minutes=2), network_outcome="answered",
                          dialog_name="survey", dialog_version=version, outcome="escalated",
                          escalation_reason="unresolved")
        s.add(attempt)
        s.flush()
        for seq, (speaker, text, step) in enumerate([
                ("bot", "请问您是赵敏本人吗？", "identity"), ("caller", "是的", "identity"),
                ("bot", "最近14天里，有哪些人和您同吃、同住、同行或者一起工作？", "contacts"),
                ("caller", "我老婆王芳一三八一二三四五六七八，还有同事李明", "contacts"),
                ("bot", "最近14天您去过哪些地方？", "places"), ("caller", "前天下午去了西关十字的超市", "places")]):
            s.add(Turn(attempt_id=attempt.id, seq=seq, speaker=speaker, text=text, step=step,
                       at=at + timedelta(seconds=seq * 5)))
        for slot, value in (("identity", "yes"), ("contacts", SURVEY_CONTACTS), ("places", SURVEY_PLACES)):
            s.add(Result(attempt_id=attempt.id, person_id=person.id, campaign_id=camp.id, slot=slot, value=value,
                         dialog_version=version))
        esc = Escalation(attempt_id=attempt.id, person_id=person.id, campaign_id=camp.id, reason="unresolved",
                         step="contacts", priority=1, created_at=at + timedelta(minutes=2))
        s.add(esc)
        person.state = PersonState.ESCALATED
        s.add(person)
        s.flush()
        return {"campaign": camp.id, "case": esc.id, "attempt": attempt.id, "person": person.id}

    return db.run(build)
