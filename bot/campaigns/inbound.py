"""People calling back the official number: found by their number, recorded like a dialled call.

    callbacks = Callbacks(db, region="CN", outbox=True)
    endpoint = await start_endpoint(config, lookup=callbacks.lookup, on_result=callbacks.on_result, ...)

`lookup(number)` finds the person (pending, or given up on after failed attempts) in a campaign
that is not cancelled, and claims an attempt for them in the same transaction, so the database's
"one active attempt per number" rule keeps the dialer from calling them at the same time. Turns and
answers are stored as they happen; `on_result` settles the attempt and the person exactly as the dialer
does (retry policy, webhook delivery). Unknown numbers, and people already done or in a call,
return None: the endpoint greets them with the self-identification.

Caller ID is a claim: `lookup` claims the person, so the endpoint calls it only after the
caller proved who they are (`start_endpoint(verify=...)`); without a verifier no callback is
matched and no person changes (tests/telephony/test_tel_inbound_trust.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.calls import CallRequest, CallResult
from bot.campaigns.claims import Claim, campaign_policy, slots_so_far
from bot.campaigns.dialer import default_worker_id
from bot.campaigns.people import normalise_phone
from bot.campaigns.recorder import CallRecorder
from storage.db import Database
from storage.models import (
    ACTIVE_ATTEMPT_STATES,
    Attempt,
    AttemptState,
    Campaign,
    CampaignStatus,
    Person,
    PersonState,
    utcnow,
)

log = logging.getLogger(__name__)
CALLABLE_BACK = (PersonState.PENDING, PersonState.FAILED)


class Callbacks:
    def __init__(self, db: Database, *, region: str = "CN", outbox: bool = False, worker_id: str | None = None,
                 claim_ttl: float = 600.0, clock: Any = utcnow, parser: Any = None) -> None:
        self.db = db
        self.region = region
        self.outbox = outbox
        self.worker_id = worker_id or default_worker_id()
        self.ttl = timedelta(seconds=claim_ttl)
        self.clock = clock
        self.parser = parser  # answer understanding for the calls (campaigns.service.call_parser(config))
        self._live: dict[Any, tuple[Claim, CallRecorder]] = {}

    async def lookup(self, number: str) -> Any:
        from bot.telephony.service import InboundMatch

        try:
            phone = normalise_phone(number, self.region)
        except ValueError:
            return None  # anonymous or malformed caller id
        try:
            claim = await self.db.arun(lambda s: self._claim(s, phone))
        except IntegrityError:  # the dialer claimed this number at the same moment
            return None
        if claim is None:
            return None
        rec = CallRecorder(self.db, claim, clock=self.clock, outbox=self.outbox)
        self._live[claim.attempt_id] = (claim, rec)
        log.info("callback matched to person %s (attempt %s)", claim.person_id, claim.attempt_id)
        return InboundMatch(claim.person, claim.prefilled, claim.attempt_id, observers=(rec.observe,),
                            parser=self.parser)

    async def on_result(self, request: CallRequest, result: CallResult) -> None:
        claim, rec = self._live.pop(request.attempt_id, (None, None))
        if claim is None:
            return
        policy = await self.db.arun(lambda s: campaign_policy(s, claim.campaign_id), write=False)
        await rec.finish(result, policy, now=self.clock())

    def _claim(self, s: Session, phone: str) -> Claim | None:
        now = self.clock()
        busy = exists().where(Attempt.phone == Person.phone, Attempt.state.in_(ACTIVE_ATTEMPT_STATES))
        row = s.exec(
            select(Person, Campaign)
            .join(Campaign, Campaign.id == Person.campaign_id)
            .where(Person.phone == phone, Person.purged == False,  # noqa: E712
                   Person.state.in_(CALLABLE_BACK), Campaign.status != CampaignStatus.CANCELLED, ~busy)
            .order_by(Person.updated_at.desc(), Person.id.desc())
        ).first()
        if row is None:
            return None
        person, camp = row
        person.state, person.updated_at = PersonState.IN_PROGRESS, now
        person.attempt_count += 1
        att = Attempt(person_id=person.id, campaign_id=camp.id, phone=phone, state=AttemptState.IN_CALL,
                      claimed_by=self.worker_id, claimed_at=now, claim_expires_at=now + self.ttl, started_at=now,
                      dialog_name=camp.dialog_name, detail="inbound callback")
        s.add(person)
        s.add(att)
        s.flush()
        return Claim(attempt_id=att.id, person_id=person.id, campaign_id=camp.id, phone=phone,
                     attempt_number=person.attempt_count, priority=person.priority,
                     person={"name": person.name, "expected_address": person.expected_address,
                             "risk_category": person.risk_category},
                     prefilled=slots_so_far(s, [person.id]).get(person.id, {}))

