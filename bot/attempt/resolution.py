"""An operator's end of a case: the escalation resolved (or handed back to the bot), the slots the
operator corrected, the person's state, the audit row and — when results are pushed — the
delivery of the corrected result (the same payload as a call's, bot.attempt.payload), all in the
caller's one transaction: they commit together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select, update

from bot.attempt.payload import result_payload
from bot.campaigns.results import webhook
from storage.models import AuditEvent, Escalation, EscalationStatus, Person, PersonState, Result


class NotHolder(Exception):
    """The user does not hold the case (claim it first): nothing changed."""


@dataclass(frozen=True)
class AuditEntry:
    """Who resolves, from where (the audit row written with the resolution)."""

    actor: str
    source: str = ""
    detail: str = ""


def resolve(s: Session, case_id: int, user_id: int, slots: dict[str, Any], note: str, *, close: bool,
            now: datetime, outbox: bool = False, audit: AuditEntry | None = None) -> Escalation:
    """Close the case (`close`) or hand the person back to the bot; only the claim holder may
    (NotHolder). A closed case queues the corrected result under its own idempotency key when
    `outbox`. Returns the escalation row."""
    status = EscalationStatus.RESOLVED if close else EscalationStatus.RETURNED_TO_BOT
    stmt = (update(Escalation)
            .where(Escalation.id == case_id, Escalation.status == EscalationStatus.CLAIMED,
                   Escalation.claimed_by == user_id)
            .values(status=status, resolution=slots or None, note=note[:4000], resolved_by=user_id,
                    resolved_at=now, claim_expires_at=None))
    if s.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        raise NotHolder(case_id)
    esc = s.get(Escalation, case_id)
    assert esc is not None
    for slot, value in slots.items():
        row = s.exec(select(Result).where(Result.attempt_id == esc.attempt_id, Result.slot == slot)).first()
        row = row or Result(attempt_id=esc.attempt_id, person_id=esc.person_id,
                            campaign_id=esc.campaign_id, slot=slot)
        row.value, row.source, row.created_at = value, "operator", now
        s.add(row)
    person = s.get(Person, esc.person_id)
    assert person is not None
    if close:
        person.state, person.last_outcome = PersonState.COMPLETED, "resolved_by_operator"
    else:
        person.state, person.next_attempt_at = PersonState.PENDING, None
        person.last_outcome = "returned_to_bot"
    person.updated_at = now
    s.add(person)
    if audit is not None:
        s.add(AuditEvent(actor=audit.actor[:100], action="case.close" if close else "case.return_to_bot",
                         target_type="escalation", target_id=str(case_id), source=audit.source[:64],
                         detail=audit.detail))
    s.flush()
    if close and outbox:
        payload = result_payload(s, esc.attempt_id, outcome="resolved_by_operator", state="completed", at=now)
        webhook.enqueue(s, esc.campaign_id, esc.attempt_id, payload, now, key=f"resolution-{esc.id}")
    return esc


def close_test_case(s: Session, attempt_id: int, now: datetime) -> None:
    """A console test call's escalation never reaches the operators' queue: it is closed as the
    call is settled (in the caller's transaction)."""
    s.execute(update(Escalation).where(Escalation.attempt_id == attempt_id)
              .values(status=EscalationStatus.RESOLVED, note="测试电话 test call", resolved_at=now))
