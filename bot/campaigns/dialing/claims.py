"""The dialer's database transactions: claim due people, mark dialling, settle, recover.

Every function takes a Session inside a transaction that `Database.run(write=True)` opened
(BEGIN IMMEDIATE on SQLite). On PostgreSQL the campaign row is locked FOR UPDATE, so two workers
claim one after the other and the concurrency limit holds across workers; people rows are taken
FOR UPDATE SKIP LOCKED; and the partial unique index refuses a second active attempt per number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, update
from sqlmodel import Session, select

from bot.campaigns.dialing.policy import Decision, RetryPolicy
from bot.campaigns.inbound.call_codes import new_code
from bot.campaigns.people import suppression
from storage.models import (
    ACTIVE_ATTEMPT_STATES,
    Attempt,
    AttemptState,
    Campaign,
    CampaignStatus,
    Escalation,
    Person,
    PersonState,
    Result,
)


@dataclass
class Claim:
    """One claimed attempt, detached from the session: all the call needs."""

    attempt_id: int
    person_id: int
    campaign_id: int
    phone: str
    attempt_number: int  # this person's attempts so far, including this one
    priority: int
    person: dict[str, Any]
    prefilled: dict[str, Any] = field(default_factory=dict)
    call_code: str | None = None  # said in the greeting; proves the call when keyed back
    # the dialog's own variables for this call: {"resume_after": "handed_back"} when an operator
    # handed the case back (the resume line must not say the call was cut off)
    variables: dict[str, str] = field(default_factory=dict)
    record_call: bool = False  # the campaign keeps the whole call as a stereo recording (record_calls)


def claim_due(s: Session, campaign_id: int, want: int, worker: str, clock: Callable[[], datetime],
              ttl: timedelta, share: float = 1.0, cap: int | None = None) -> list[Claim]:
    """Claim up to `want` due people of a running campaign (fewer if its concurrency is reached).
    With `share` < 1 a worker takes only that share of the campaign's free lines (at least one),
    leaving the rest for other workers to claim; `cap` bounds the result after that (the dialer's
    start rate). The time is read once the locks are held, so a
    claim is never dated before the end of an attempt whose commit it saw."""
    q = select(Campaign).where(Campaign.id == campaign_id)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    camp = s.exec(q).first()
    now = clock()
    if camp is None or camp.status != CampaignStatus.RUNNING or want <= 0:
        return []
    active = s.exec(
        select(func.count()).select_from(Attempt)
        .where(Attempt.campaign_id == campaign_id, Attempt.state.in_(ACTIVE_ATTEMPT_STATES))
    ).one()
    want = min(want, camp.concurrency - active)
    if want <= 0:
        return []
    want = max(1, math.ceil(want * share))
    if cap is not None:
        want = min(want, cap)
        if want <= 0:
            return []
    on_dnc, suppressed_until = suppression.blocked_columns(campaign_id, now)
    busy = exists().where(Attempt.phone == Person.phone, Attempt.state.in_(ACTIVE_ATTEMPT_STATES))
    q = (
        select(Person, on_dnc.label("dnc"), suppressed_until.label("until"))
        .where(Person.campaign_id == campaign_id, Person.state == PersonState.PENDING,
               Person.purged == False,  # noqa: E712
               or_(Person.next_attempt_at.is_(None), Person.next_attempt_at <= now), ~busy)
        .order_by(Person.priority, Person.id)
    )
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=Person)
    claims: list[Claim] = []
    pairs: list[tuple[Person, Attempt]] = []
    for _round in range(5):  # people on the do-not-call list are set aside and do not use a line
        limit = want - len(pairs)
        rows = s.exec(q.limit(limit)).all()
        for person, dnc, until in rows:
            person.updated_at = now
            if dnc:
                person.state = PersonState.DO_NOT_CALL
                s.add(person)
                continue
            if until is not None:  # suppressed by another campaign (wrong number): wait for its end
                person.next_attempt_at = until
                s.add(person)
                continue
            person.state = PersonState.IN_PROGRESS
            person.attempt_count += 1
            att = Attempt(person_id=person.id, campaign_id=campaign_id, phone=person.phone,
                          state=AttemptState.CLAIMED, claimed_by=worker, claimed_at=now,
                          claim_expires_at=now + ttl, dialog_name=camp.dialog_name, call_code=new_code())
            s.add(person)
            s.add(att)
            pairs.append((person, att))
        s.flush()
        if len(pairs) >= want or len(rows) < limit:
            break
    s.flush()
    prefilled = slots_so_far(s, [p.id for p, _ in pairs])
    for person, att in pairs:
        claims.append(Claim(
            attempt_id=att.id, person_id=person.id, campaign_id=campaign_id, phone=person.phone,
            attempt_number=person.attempt_count, priority=person.priority,
            person={"name": person.name, "expected_address": person.expected_address,
                    "risk_category": person.risk_category},
            prefilled=prefilled.get(person.id, {}), call_code=att.call_code,
            variables={"resume_after": "handed_back"} if person.last_outcome == "returned_to_bot" else {},
            record_call=bool(camp.record_calls),
        ))
    return claims


def slots_so_far(s: Session, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Slot values earlier attempts established (the latest wins): a resumed call skips those asks."""
    out: dict[int, dict[str, Any]] = {}
    if not person_ids:
        return out
    for r in s.exec(select(Result).where(Result.person_id.in_(person_ids)).order_by(Result.id)).all():
        out.setdefault(r.person_id, {})[r.slot] = r.value
    return out


def mark_dialling(s: Session, attempt_ids: list[int], now: datetime) -> None:
    if attempt_ids:
        s.exec(update(Attempt).where(Attempt.id.in_(attempt_ids), Attempt.state == AttemptState.CLAIMED)
               .values(state=AttemptState.DIALLING, started_at=now))


def settle_person(s: Session, person_id: int, outcome: str, decision: Decision, now: datetime) -> None:
    """After an attempt: the person is done (final state) or pending again from `retry_at`.

    One guarded UPDATE: nothing happens to a deleted / do-not-call person, nor while another attempt
    for them is live; a late result (claim expired, person already rescheduled) only counts when final.
    """
    final = decision.final_state
    live = exists().where(Attempt.person_id == Person.id, Attempt.state.in_(ACTIVE_ATTEMPT_STATES))
    may = (Person.state == PersonState.IN_PROGRESS)
    if final:
        may = or_(may, Person.state == PersonState.PENDING)
    s.execute(update(Person).where(Person.id == person_id, may, ~live).values(
        state=final or PersonState.PENDING, next_attempt_at=None if final else decision.retry_at,
        last_outcome=outcome, updated_at=now))


def heartbeat(s: Session, attempt_ids: list[int], worker: str, now: datetime, ttl: timedelta) -> None:
    """Extend the claims of the calls this worker is still running."""
    if attempt_ids:
        s.exec(update(Attempt).where(Attempt.id.in_(attempt_ids), Attempt.claimed_by == worker)
               .values(claim_expires_at=now + ttl))


def recover(s: Session, now: datetime, worker: str | None = None, policies: dict[int, RetryPolicy] | None = None,
            dialogs: list[dict[str, Any]] | None = None) -> int:
    """Release attempts whose worker is gone: claims past expiry (or all of `worker`'s at its start).

    Never dialled -> the person is pending again at once. Dialled (maybe mid-call) -> attempt
    `interrupted`, and the person waits for the `interrupted` cool-down of the retry policy —
    unless the call had escalated (its Escalation row is written when the dialog escalates):
    outcome `escalated`, the person is escalated and not called again by the bot.
    The SIP dialogs of answered ones (`Attempt.sip_dialog`) are moved to `dialogs`: the caller
    ends them (BYE) once this transaction commits.
    """
    gone = Attempt.claim_expires_at < now
    if worker is not None:
        gone = or_(gone, Attempt.claimed_by == worker)
    q = select(Attempt).where(Attempt.state.in_(ACTIVE_ATTEMPT_STATES), gone)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    n = 0
    for att in s.exec(q).all():
        dialled = att.state in (AttemptState.DIALLING, AttemptState.IN_CALL)
        att.state, att.ended_at, att.outcome = AttemptState.INTERRUPTED, now, "interrupted"
        att.detail = "worker stopped during the call" if dialled else "claim expired before dialling"
        if att.sip_dialog:
            if dialogs is not None:
                dialogs.append(att.sip_dialog)
            att.sip_dialog = None
        s.add(att)
        escalated = dialled and s.exec(select(Escalation.id).where(Escalation.attempt_id == att.id)).first()
        if escalated:  # the resident was promised a call back: the operator's queue has the case
            att.outcome = "escalated"
        p = s.get(Person, att.person_id)
        if p is not None and p.state == PersonState.IN_PROGRESS:
            if dialled:
                policy = (policies or {}).get(att.campaign_id) or campaign_policy(s, att.campaign_id)
                settle_person(s, p.id, att.outcome, policy.decide(att.outcome, p.attempt_count, now), now)
            else:
                p.state, p.attempt_count, p.next_attempt_at = PersonState.PENDING, max(0, p.attempt_count - 1), now
                s.add(p)
        n += 1
    return n


def unplace(s: Session, attempt_id: int, now: datetime, retry_at: datetime,
            detail: str = "not dialled: this worker's lines were full") -> None:
    """An attempt this worker never placed (its own lines were full: a 503 of ours, not the
    network's): it costs the person nothing. The attempt is closed as never dialled and the
    person is pending again from `retry_at` with their attempt count as before the claim."""
    att = s.get(Attempt, attempt_id)
    if att is None or att.state not in ACTIVE_ATTEMPT_STATES:
        return
    att.state, att.ended_at, att.outcome = AttemptState.INTERRUPTED, now, "interrupted"
    att.detail = detail
    s.add(att)
    p = s.get(Person, att.person_id)
    if p is not None and p.state == PersonState.IN_PROGRESS:
        p.state, p.attempt_count, p.next_attempt_at = PersonState.PENDING, max(0, p.attempt_count - 1), retry_at
        p.updated_at = now
        s.add(p)


def campaign_policy(s: Session, campaign_id: int) -> RetryPolicy:
    camp = s.get(Campaign, campaign_id)
    return RetryPolicy.from_json(camp.retry_policy if camp else None)


def active_workers(s: Session) -> list[str]:
    """Workers holding active attempts."""
    return [w for w in s.exec(select(Attempt.claimed_by).where(Attempt.state.in_(ACTIVE_ATTEMPT_STATES))
                              .distinct()).all() if w]


def remaining(s: Session, campaign_id: int) -> int:
    """People still to call (pending or in progress) in a campaign."""
    return s.exec(select(func.count()).select_from(Person).where(
        Person.campaign_id == campaign_id,
        Person.state.in_((PersonState.PENDING, PersonState.IN_PROGRESS)))).one()
