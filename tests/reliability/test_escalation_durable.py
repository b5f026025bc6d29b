"""An escalation is stored when the dialog escalates (the resident has just been told "staff will
call you"), not when the call ends: a worker killed after that leaves the case in the operator's
queue, and the person is escalated, not called again by the bot. The end of the call writes no
second row."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.dialog.events import CallRecord, Escalate, EscalationReason, Outcome
from storage.models import Attempt, Escalation, Person
from tests.campaigns.campaign_fakes import Clock, add_campaign

ESC = Escalate(EscalationReason.REQUESTED_HUMAN, "residence", "caller asked for a person")


def _claim(db, clock, phone="+8613800000001"):
    cid = add_campaign(db, people=[(phone, 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    db.run(lambda s: ops.mark_dialling(s, [claim.attempt_id], clock()))
    return claim


async def _applied(db):
    await asyncio.wrap_future(db.submit(lambda s: None))


def _escalations(db):
    return db.run(lambda s: s.exec(select(Escalation)).all(), write=False)


async def test_the_escalation_is_queued_when_it_happens_and_survives_a_kill(db):
    clock = Clock()
    claim = _claim(db, clock)
    rec = CallAttempt(db, claim, clock=clock)
    rec.record(ESC)
    await _applied(db)
    rows = _escalations(db)  # the call is still going on (the goodbye is being spoken)
    assert [(e.attempt_id, e.reason, e.step, e.status) for e in rows] == \
        [(claim.attempt_id, "requested_human", "residence", "open")]
    # the worker dies here: a restarted one recovers the attempt
    clock.advance(5)
    assert db.run(lambda s: ops.recover(s, clock(), worker="w1")) == 1
    att = db.run(lambda s: s.get(Attempt, claim.attempt_id), write=False)
    assert (att.state, att.outcome) == ("interrupted", "escalated")
    assert db.run(lambda s: s.get(Person, claim.person_id), write=False).state == "escalated"  # not re-dialled
    assert len(_escalations(db)) == 1


async def test_the_end_of_an_escalated_call_writes_no_second_row(db):
    clock = Clock()
    claim = _claim(db, clock)
    rec = CallAttempt(db, claim, clock=clock)
    rec.record(ESC)
    record = CallRecord("verification", "v1", "zh-CN", outcome=Outcome.ESCALATED, slots={}, transcript=[])
    record.escalation = ESC
    clock.advance(3)
    assert await rec.settle(CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200), RetryPolicy()) \
        == "escalated"
    rows = _escalations(db)
    assert len(rows) == 1 and rows[0].created_at < clock()  # dated when the dialog escalated
    assert db.run(lambda s: s.get(Person, claim.person_id), write=False).state == "escalated"
