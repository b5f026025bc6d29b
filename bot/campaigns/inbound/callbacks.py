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

`legs` keeps each inbound call's SIP dialog in storage while it lasts (`start_endpoint(legs=...)`):
a restarted worker ends its dead predecessor's calls with a BYE (bot/campaigns/inbound/legs.py).

`verifier(variables, locale)` is that proof: every caller is asked for the code of a call they
had from us (bot/campaigns/inbound/call_codes.py). A code given to the caller's number proves it; a
code given to another number only tells the caller the call was genuine; the caller hears
either way who called and when, or that the code is wrong. Every callback is recorded as an
`InboundCall` against the person its caller ID names, whatever their state; only a verified
one goes on to the person's dialog (tests/telephony/test_tel_call_codes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallRequest, CallResult
from bot.campaigns.dialing.claims import Claim, campaign_policy, slots_so_far
from bot.campaigns.dialing.dialer import default_worker_id
from bot.campaigns.inbound.call_codes import CODE_DIGITS, CodeGuard, GuessBudget, code_variables, find_code
from bot.campaigns.inbound.callback_replies import reply_for
from bot.campaigns.inbound.legs import InboundLegs
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.people.list_import import normalise_phone
from bot.campaigns.scripts.agency_overrides import Overlaid
from storage.db import Database
from storage.models import (
    ACTIVE_ATTEMPT_STATES,
    Attempt,
    AttemptState,
    Campaign,
    CampaignStatus,
    InboundCall,
    Person,
    PersonState,
    utcnow,
)

log = logging.getLogger(__name__)
CALLABLE_BACK = (PersonState.PENDING, PersonState.FAILED)


class Callbacks:
    def __init__(self, db: Database, *, region: str = "CN", outbox: bool = False, worker_id: str | None = None,
                 claim_ttl: float = 600.0, clock: Any = utcnow, parser: Any = None,
                 code_valid_days: float = 14.0, guess_budget: GuessBudget | None = None,
                 suppression_days: float = 30.0, spool: EscalationSpool | None = None,
                 live_variables: Callable[[], dict[str, str]] | None = None) -> None:
        self.db = db
        self.region = region
        self.outbox = outbox
        self.worker_id = worker_id or default_worker_id()
        self.ttl = timedelta(seconds=claim_ttl)
        self.clock = clock
        self.parser = parser  # answer understanding for the calls (campaigns.service.call_parser(config))
        self.suppression_days = suppression_days  # [campaigns] suppression_days, as the dialer's calls
        self.spool = spool  # the worker's (the dialer's): escalations the database refused, and the storage alarm
        # read as each callback starts: the console's official number/badge, as the dialer's calls (record22)
        self.live_variables = live_variables or dict
        self._live: dict[Any, tuple[Claim, CallAttempt]] = {}
        self.code_valid = timedelta(days=code_valid_days)
        self._codes: dict[str, str] = {}  # phone -> the code that proved it (said again in the dialog)
        self.legs = InboundLegs(db, self.worker_id, clock=clock)  # start_endpoint(legs=...): BYE after a crash
        # the callback-code lockout, in the database, keyed on the E.164 number (call_codes.py)
        self.guard = CodeGuard(db, self._phone, budget=guess_budget, valid=self.code_valid, clock=clock)

    def verifier(self, variables: dict[str, str], locale: str, **options: Any) -> Any:
        """`start_endpoint(verify=...)`: asks for the call code (bot.telephony.calls.caller_verification.code_verifier).
        `resources=` the worker's SpeechResources: when they hear `locale`, the caller may say the
        code too (`hear=spoken_code_ear(...)`, the locale's recognizer given the code's digits)."""
        from bot.telephony.calls.caller_verification import code_verifier, spoken_code_ear

        resources = options.pop("resources", None)
        if resources is not None and options.get("hear") is None and resources.ear(locale).hears:
            options["hear"] = spoken_code_ear(lambda: resources.recognizer(locale), locale)

        async def check(number: str, code: str, final: bool = True) -> tuple[bool, str, bool]:
            return await self.check_code(number, code, variables, locale, final=final)

        async def locked(number: str) -> None:
            await self._record(number, None, "locked")

        options.setdefault("digits", CODE_DIGITS)
        options.setdefault("lockout", self.guard)
        spoken = Overlaid(variables, self.live_variables)  # record22: the console's number/badge, live
        return code_verifier(check, locale=locale, on_locked=locked, variables=spoken, **options)

    async def _record(self, number: str, match: Any, outcome: str) -> None:
        """A callback that was not checked (its number is locked): recorded all the same."""
        phone = self._phone(number)
        now = self.clock()

        def unit(s: Session) -> None:
            person = self._person_for(s, phone, match)
            s.add(InboundCall(at=now, phone=phone or "", person_id=person.id if person else None,
                              campaign_id=person.campaign_id if person else None, verified=False, outcome=outcome))

        await self.db.arun(unit)

    def _phone(self, number: str) -> str | None:
        try:
            return normalise_phone(number, self.region)
        except ValueError:
            return None

    async def check_code(self, number: str, keyed: str, variables: dict[str, str],
                         locale: str, *, final: bool = True) -> tuple[bool, str, bool]:
        """(proved, what to tell the caller, wrong code); records the callback. `final=False`: a
        said code the caller will be asked for again when it is wrong, so a wrong one is not the
        callback's outcome (its guess is counted all the same: CodeGuard) and nothing is told yet."""
        phone = self._phone(number)
        now = self.clock()

        def unit(s: Session) -> tuple[str, Any, Any]:
            match = find_code(s, phone, keyed, now, self.code_valid) if keyed else None
            if match is None:
                outcome = "wrong_code" if keyed else "no_code"
                if not final:
                    return outcome, None, None
            else:
                outcome = "genuine" if match.same_number(phone or "") else "genuine_other_number"
            person = self._person_for(s, phone, match)
            tz = s.get(Campaign, match.campaign_id).timezone if match else None
            s.add(InboundCall(at=now, phone=phone or "", person_id=person.id if person else None,
                              campaign_id=person.campaign_id if person else None, verified=outcome == "genuine",
                              code_attempt_id=match.attempt_id if match else None, outcome=outcome))
            return outcome, match.called_at if match else None, tz

        outcome, called_at, tz = await self.db.arun(unit)
        if not final and outcome == "wrong_code":
            return False, "", True
        log.info("callback %s", outcome)
        if outcome == "genuine" and phone:
            self._codes[phone] = keyed
        spoken = {**variables, **self.live_variables()}  # record22: the console's number/badge
        return outcome == "genuine", reply_for(outcome, locale, spoken, called_at, tz), outcome == "wrong_code"

    @staticmethod
    def _person_for(s: Session, phone: str | None, match: Any) -> Person | None:
        """Whom the callback is recorded against: the person the code was given to when it was
        given to this number, else the latest listed person with this number (any state)."""
        if match is not None and phone and match.same_number(phone):
            return s.get(Person, match.person_id)
        if not phone:
            return None
        return s.exec(select(Person).where(Person.phone == phone, Person.purged == False)  # noqa: E712
                      .order_by(Person.updated_at.desc(), Person.id.desc())).first()

    async def lookup(self, number: str) -> Any:
        from bot.telephony.calls.worker_endpoint import InboundMatch

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
        rec = self._attempt(claim)
        self._live[claim.attempt_id] = (claim, rec)
        log.info("callback matched to person %s (attempt %s)", claim.person_id, claim.attempt_id)
        return InboundMatch(claim.person, claim.prefilled, claim.attempt_id, observers=(rec.record,),
                            parser=self.parser, variables={**self.live_variables(),  # record22
                                                           **code_variables(self._codes.pop(phone, None)),
                                                           "resume_after": "called_back"},  # not "cut off"
                            guard=rec)

    async def stream_lookup(self, params: dict[str, str]) -> Any:
        """A Twilio media stream (`bot.telephony.calls.worker_endpoint.media_stream_on_call`): its TwiML
        <Parameter>s name an outbound attempt in progress (`attempt`) and carry that attempt's
        call code (`code`), which only the service that placed the call knows. Anything else is
        no person (the stream is closed); the request itself was signed by Twilio."""
        from bot.telephony.calls.worker_endpoint import InboundMatch

        attempt, code = str(params.get("attempt", "")), str(params.get("code", ""))
        if not attempt.isdigit() or len(attempt) > 18 or not code.isdigit():
            return None
        claim = await self.db.arun(lambda s: self._stream_claim(s, int(attempt), code), write=False)
        if claim is None:
            return None
        rec = self._attempt(claim)
        self._live[claim.attempt_id] = (claim, rec)
        return InboundMatch(claim.person, claim.prefilled, claim.attempt_id, observers=(rec.record,),
                            parser=self.parser, variables={**self.live_variables(), **code_variables(code)},
                            guard=rec)  # record22: the console's number/badge

    def _stream_claim(self, s: Session, attempt_id: int, code: str) -> Claim | None:
        import hmac

        att = s.get(Attempt, attempt_id)
        if att is None or att.state not in ACTIVE_ATTEMPT_STATES or not att.call_code \
                or not hmac.compare_digest(att.call_code.encode(), code.encode()):
            return None
        person = s.get(Person, att.person_id)
        if person is None or person.purged:
            return None
        return Claim(attempt_id=att.id, person_id=person.id, campaign_id=att.campaign_id, phone=att.phone,
                     attempt_number=person.attempt_count, priority=person.priority,
                     person={"name": person.name, "expected_address": person.expected_address,
                             "risk_category": person.risk_category},
                     prefilled=slots_so_far(s, [person.id]).get(person.id, {}), call_code=att.call_code)

    def _attempt(self, claim: Claim) -> CallAttempt:
        return CallAttempt(self.db, claim, clock=self.clock, outbox=self.outbox, spool=self.spool,
                       suppression_days=self.suppression_days)

    async def on_result(self, request: CallRequest, result: CallResult) -> None:
        claim, rec = self._live.pop(request.attempt_id, (None, None))
        if claim is None:
            return
        policy = await self.db.arun(lambda s: campaign_policy(s, claim.campaign_id), write=False)
        await rec.settle(result, policy, now=self.clock())

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

