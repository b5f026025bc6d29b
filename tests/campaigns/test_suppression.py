"""Do-not-call list and suppression across campaigns, through the real dialog engine and dialer."""

from __future__ import annotations

from datetime import timedelta

from campaign_fakes import Clock, TextRunner, add_campaign, settle
from sqlmodel import select

from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.people import suppression
from storage.models import AuditEvent, DoNotCall, Escalation, Person


def person(db, cid, phone):
    return db.run(lambda s: s.exec(select(Person).where(Person.campaign_id == cid, Person.phone == phone)).one(),
                  write=False)


async def test_a_wrong_number_who_says_stop_calling_is_listed_for_every_campaign(db):
    a = add_campaign(db, "a", people=[("+8613800000001", 1)])
    b = add_campaign(db, "b", people=[("+8613800000001", 1), ("+8613800000002", 1)])
    runner = TextRunner({"+8613800000001": ["我不是他，别再打了"]})
    dialer = Dialer(db, runner, worker_id="w1", clock=Clock())
    for _ in range(3):
        await dialer.tick()
        await settle(dialer)
    assert [r.phone for r in runner.requests].count("+8613800000001") == 1  # campaign b never dialled it
    assert person(db, a, "+8613800000001").state == "do_not_call"
    assert person(db, b, "+8613800000001").state == "do_not_call"
    row = db.run(lambda s: s.exec(select(DoNotCall)).one(), write=False)
    assert (row.kind, row.added_by, row.expires_at, row.campaign_id) == ("resident", "bot", None, a)
    assert row.attempt_id is not None
    audit = db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "dnc.add")).one(), write=False)
    assert audit.actor == "bot" and "+86" not in audit.detail and str(row.attempt_id) in audit.detail


async def test_the_listed_person_who_says_stop_calling_is_escalated_not_listed(db):
    """Issue 22: a close contact must not silently opt out of tracing: persuaded once, then a case
    (uncooperative) with the request noted; the number is not listed."""
    a = add_campaign(db, "a", people=[("+8613800000001", 1)])
    runner = TextRunner({"+8613800000001": ["是", "别再打了", "别再打了"]})
    dialer = Dialer(db, runner, worker_id="w1", clock=Clock())
    await dialer.tick()
    await settle(dialer)
    assert person(db, a, "+8613800000001").state == "escalated"
    esc = db.run(lambda s: s.exec(select(Escalation)).one(), write=False)
    assert esc.reason == "uncooperative" and "asked not to be called again" in esc.detail
    assert db.run(lambda s: s.exec(select(DoNotCall)).first(), write=False) is None


async def test_an_operator_lists_a_cases_number_with_audit(db):
    """The opted-out resident's case: the operator can put the number on the list from it."""
    a = add_campaign(db, "a", people=[("+8613800000001", 1)])
    dialer = Dialer(db, TextRunner({"+8613800000001": ["是", "别再打了", "别再打了"]}), worker_id="w1", clock=Clock())
    await dialer.tick()
    await settle(dialer)
    case = db.run(lambda s: s.exec(select(Escalation)).one(), write=False)
    entry = db.run(lambda s: suppression.add_from_case(s, case.id, actor="王芳", source="127.0.0.1"))
    assert entry is not None and entry.kind == "manual" and entry.attempt_id == case.attempt_id
    assert db.run(lambda s: suppression.add_from_case(s, 99999, actor="王芳", source="x")) is None
    audit = db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "dnc.add")).one(), write=False)
    assert audit.actor == "王芳" and "+86" not in audit.detail
    assert person(db, a, "+8613800000001").state == "escalated"  # the case stays the operator's


async def test_a_wrong_number_is_not_dialled_by_another_campaign_for_the_configured_days(db):
    clock = Clock()
    a = add_campaign(db, "a", people=[("+8613800000001", 1)])
    runner = TextRunner({"+8613800000001": ["打错了"]})
    dialer = Dialer(db, runner, worker_id="w1", clock=clock, suppression_days=2)
    await dialer.tick()
    await settle(dialer)
    assert person(db, a, "+8613800000001").state == "wrong_number"
    b = add_campaign(db, "b", people=[("+8613800000001", 1)])
    assert await dialer.tick() == []
    p = person(db, b, "+8613800000001")
    assert p.state == "pending" and p.next_attempt_at == clock.now + timedelta(days=2)  # the page says until when
    clock.advance(2 * 86400 - 3600)  # inside the next day's window, still suppressed
    assert await dialer.tick() == []
    clock.advance(3600)
    assert [c.phone for c in await dialer.tick()] == ["+8613800000001"]
    await settle(dialer)


async def test_admin_adds_and_removes_a_number_with_audit(db):
    c = add_campaign(db, "a", people=[("+8613800000003", 1)])
    db.run(lambda s: suppression.add(s, "+8613800000003", actor="王芳", source="cli", reason="本人要求"))
    assert person(db, c, "+8613800000003").state == "do_not_call"
    dialer = Dialer(db, TextRunner({}), worker_id="w1", clock=Clock())
    assert await dialer.tick() == []
    assert db.run(lambda s: suppression.remove(s, "+8613800000003", actor="王芳", source="cli"))
    assert person(db, c, "+8613800000003").state == "pending"
    assert not db.run(lambda s: suppression.remove(s, "+8613800000003", actor="王芳", source="cli"))
    actions = db.run(lambda s: s.exec(select(AuditEvent.action).where(AuditEvent.actor == "王芳")).all(), write=False)
    assert actions == ["dnc.add", "dnc.remove"]
