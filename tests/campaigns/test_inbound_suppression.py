"""Inbound calls are attempts like dialled ones (issue 21 item 1): a callback that turns out to be
a wrong number suppresses the number for `[campaigns] suppression_days`, as a dialled call does."""

from __future__ import annotations

from datetime import timedelta

from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.inbound.callbacks import Callbacks
from bot.dialog.events import CallRecord, Outcome
from storage.models import DoNotCall

PHONE = "+8613800000001"


async def test_a_wrong_number_calling_back_is_suppressed_for_the_configured_days(db):
    add_campaign(db, people=[(PHONE, 1)])
    clock = Clock()
    callbacks = Callbacks(db, clock=clock, suppression_days=3)
    match = await callbacks.lookup(PHONE)
    assert match is not None and match.guard is not None  # the attempt guards the call's storage

    class Request:
        attempt_id = match.attempt_id

    record = CallRecord("verification", "v1", "zh-CN", outcome=Outcome.WRONG_NUMBER)
    await callbacks.on_result(Request(), CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200))
    row = db.run(lambda s: s.exec(select(DoNotCall).where(DoNotCall.phone == PHONE)).one(), write=False)
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=clock().tzinfo)
    assert expires == clock() + timedelta(days=3)  # not the 30-day default
