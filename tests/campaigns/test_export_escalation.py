"""A completed person never shows an escalation reason that no longer stands (issue 22: a person
handed back to the bot and completed by its next call showed 转人工原因 未能识别 in the export)."""

from __future__ import annotations

from sqlmodel import select

from bot.campaigns.results.export import collect
from storage.models import Attempt, Campaign, Escalation, Person


def _person(s, camp, name, state, esc_status):
    p = Person(campaign_id=camp.id, name=name, phone=f"+86139{abs(hash(name)) % 10**8:08d}", state=state)
    s.add(p)
    s.flush()
    a = Attempt(person_id=p.id, campaign_id=camp.id, phone=p.phone, state="ended", outcome="escalated",
                escalation_reason="unresolved")
    s.add(a)
    s.flush()
    s.add(Escalation(attempt_id=a.id, person_id=p.id, campaign_id=camp.id, reason="unresolved", status=esc_status))


def test_only_an_escalation_that_stands_is_exported(db):
    def fill(s):
        camp = Campaign(name="c1")
        s.add(camp)
        s.flush()
        _person(s, camp, "handed back then completed", "completed", "returned_to_bot")
        _person(s, camp, "completed by a later call", "completed", "open")
        _person(s, camp, "closed by an operator", "completed", "resolved")
        _person(s, camp, "waiting in the queue", "escalated", "open")

    db.run(fill)
    rows = db.run(lambda s: {r["name"]: r["escalation"] for r in collect(
        s, s.exec(select(Campaign).where(Campaign.name == "c1")).one())}, write=False)
    assert rows["handed back then completed"] is None and rows["completed by a later call"] is None
    assert rows["closed by an operator"]["reason"] == "unresolved"
    assert rows["waiting in the queue"]["reason"] == "unresolved"
