"""A test call: the campaign's script, now, to a number or a local softphone (`sip:test@127.0.0.1:5070`).

It is recorded like any call (transcript, slots, live view) but in a companion campaign
"<name> · 测试" that stays a draft — the dialer never dials it and the real campaign's counts,
results and dashboard stay clean. Calling window and pause do not apply: an admin asked for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.attempt.attempt import outcome_of
from bot.calls import CallResult, CallRunner, NetworkOutcome
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.inbound.call_codes import code_variables, new_code
from bot.campaigns.people.list_import import normalise_phone
from bot.campaigns.scripts.dialog_versions import ScriptSource
from storage.db import Database
from storage.models import (
    Attempt,
    AttemptState,
    AuditEvent,
    Campaign,
    CampaignStatus,
    Person,
    PersonState,
    utcnow,
)

log = logging.getLogger(__name__)
SUFFIX = " · 测试"
WORKER = "console-test-call"
SIP_URI = re.compile(r"^sips?:[A-Za-z0-9._~+-]+@[A-Za-z0-9.-]+(:\d{1,5})?$")


class TrialError(ValueError):
    """msgid for the admin."""


@dataclass(frozen=True)
class Trial:
    claim: Claim
    campaign_id: int  # the companion test campaign (its page shows the call live)
    source: Campaign  # the campaign whose script is used


def target_of(raw: str, region: str) -> str:
    """A SIP URI as typed, or a telephone number in E.164."""
    raw = raw.strip()
    if raw.lower().startswith(("sip:", "sips:")):
        if len(raw) > 32 or not SIP_URI.match(raw):
            raise TrialError("A SIP address such as sip:test@127.0.0.1:5070 (at most 32 characters).")
        return raw
    try:
        return normalise_phone(raw, region)
    except ValueError:
        raise TrialError("Type a telephone number or a SIP address such as sip:test@127.0.0.1:5070.") from None


def prepare(s: Session, campaign_id: int, target: str, actor: str, source: str,
            now: datetime | None = None) -> Trial:
    now = now or utcnow()
    camp = s.get(Campaign, campaign_id)
    if camp is None:
        raise LookupError(f"no campaign {campaign_id}")
    name = f"{camp.name.removesuffix(SUFFIX)}{SUFFIX}"[:200]
    test = s.exec(select(Campaign).where(Campaign.name == name)).first()
    if test is None:
        test = Campaign(name=name, status=CampaignStatus.DRAFT, description=f"test calls of campaign {camp.id}",
                        timezone=camp.timezone, window_start=camp.window_start, window_end=camp.window_end)
    test.dialog_name, test.dialog_path = camp.dialog_name, camp.dialog_path
    s.add(test)
    s.flush()
    busy = s.exec(select(Attempt.id).where(Attempt.phone == target,
                                           Attempt.state.in_(("pending", "claimed", "dialling", "in_call")))).first()
    if busy is not None:
        raise TrialError("That number is in a call already.")
    person = s.exec(select(Person).where(Person.campaign_id == test.id, Person.phone == target)).first()
    if person is None:
        person = Person(campaign_id=test.id, name="测试", phone=target, risk_category="测试", priority=1)
    person.state, person.attempt_count, person.updated_at = PersonState.IN_PROGRESS, person.attempt_count + 1, now
    s.add(person)
    s.flush()
    att = Attempt(person_id=person.id, campaign_id=test.id, phone=target, state=AttemptState.DIALLING,
                  claimed_by=WORKER, claimed_at=now, claim_expires_at=now + timedelta(hours=1), started_at=now,
                  dialog_name=camp.dialog_name, call_code=new_code())  # a real code: the greeting says it
    s.add(att)
    s.flush()
    s.add(AuditEvent(actor=actor, action="campaign.test_call", target_type="campaign", target_id=str(camp.id),
                     source=source, detail=f"test_campaign={test.id} attempt={att.id}"))
    claim = Claim(attempt_id=att.id, person_id=person.id, campaign_id=test.id, phone=target,
                  attempt_number=person.attempt_count, priority=1,
                  person={"name": person.name, "expected_address": "", "risk_category": person.risk_category},
                  call_code=att.call_code)
    return Trial(claim, test.id, camp)


async def run(db: Database, runner: CallRunner, trial: Trial, variables: dict[str, str],
              parser: Any = None) -> str:
    """Place the call and record it; returns the outcome (never raises for a failed call)."""
    rec = CallAttempt(db, trial.claim)
    try:
        rec.script = script = await asyncio.to_thread(ScriptSource(db).for_campaign, trial.source)
        rec.dialog_version = getattr(script, "version", None)
        result = await runner.run(rec.request({**variables, **code_variables(trial.claim.call_code)}, parser=parser))
    except Exception as exc:  # the reason is shown with the attempt on the test campaign's page
        log.error("test call %s failed: %s", trial.claim.attempt_id, type(exc).__name__)
        result = CallResult(NetworkOutcome.FAILED, detail=f"test call: {type(exc).__name__}: {exc}"[:300])
    outcome = outcome_of(result)
    await rec.settle(result, RetryPolicy(), outcome=outcome)
    # a test call's escalation never reaches the operators' queue
    await db.arun(lambda s: CallAttempt.close_test_case(s, trial.claim.attempt_id, utcnow()))
    return outcome
