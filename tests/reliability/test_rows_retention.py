"""RELIABILITY.md: "Retention purge deletes rows, recordings and transcripts past their date" —
also for people who called back (inbound_call rows name them and their number) and people in a
follow-up chain (followup_source rows link them): the purge must not stop at those links, and
leaves no phone number of a purged person anywhere."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import SQLModel, select

from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.people.retention import purge
from storage.models import Attempt, FollowUpSource, InboundCall, Person
from tests.campaigns.campaign_fakes import T0, Clock, ScriptedRunner, add_campaign, settle

OLD, NAMED, KEPT = "+8613800000001", "+8613800000002", "+8613900000001"


def _everything(db) -> str:
    def read(s):
        return "\n".join(repr(tuple(r)) for t in SQLModel.metadata.sorted_tables if t.name != "audit_event"
                         for r in s.execute(t.select()).all())

    return db.run(read, write=False)


async def test_purge_takes_callbacks_and_follow_up_links_of_the_people_it_erases(db, tmp_path):
    clock = Clock()
    old = add_campaign(db, "old", people=[(OLD, 1)], retention_days=7)
    dialer = Dialer(db, ScriptedRunner(), worker_id="w", clock=clock)
    await dialer.tick()
    await settle(dialer)

    def links(s):
        person = s.exec(select(Person).where(Person.phone == OLD)).one()
        attempt = s.exec(select(Attempt).where(Attempt.person_id == person.id)).one()
        follow = add_campaign_in(s, "old-followup")
        named = Person(campaign_id=follow, name="接触者", phone=NAMED, state="completed", updated_at=T0)
        s.add(named)
        s.flush()
        s.add(FollowUpSource(person_id=named.id, source_person_id=person.id, source_attempt_id=attempt.id,
                             source_campaign_id=old))
        s.add(InboundCall(at=T0, phone=OLD, person_id=person.id, campaign_id=old, verified=True,
                          code_attempt_id=attempt.id, outcome="genuine"))

    db.run(links)
    clock.advance(3 * 86400)
    add_campaign(db, "keep", people=[(KEPT, 1)], retention_days=7)
    await dialer.tick()
    await settle(dialer)
    report = purge(db, T0 + timedelta(days=8), [tmp_path])
    assert report.people == 2  # the old person and the contact they named
    left = _everything(db)
    assert OLD not in left and NAMED not in left and "接触者" not in left
    assert KEPT in left
    assert db.run(lambda s: s.exec(select(InboundCall)).all(), write=False) == []
    assert db.run(lambda s: s.exec(select(FollowUpSource)).all(), write=False) == []


def add_campaign_in(s, name: str) -> int:
    from storage.models import Campaign

    c = Campaign(name=name, status="done", retention_days=7)
    s.add(c)
    s.flush()
    return c.id
