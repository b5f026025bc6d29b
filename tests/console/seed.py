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
