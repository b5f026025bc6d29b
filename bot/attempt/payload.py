"""The result payload (the webhook's body, schemas/result.v1.json without its `schema` stamp): one
builder, read from the rows in the writer's transaction, for a call's end and an operator's
resolution alike — so a receiver gets the same shape, person, slots, escalation and transcript
whichever closed the person's case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Attempt, Escalation, Person, Result, Turn


def person_fields(person: Person) -> dict[str, Any]:
    """What a call knows of the person (and its payload names): the claim's view of the row."""
    return {"name": person.name, "expected_address": person.expected_address, "risk_category": person.risk_category}


def result_payload(s: Session, attempt_id: int, *, outcome: str, state: str, at: datetime) -> dict[str, Any]:
    """Who, outcome, every slot the person's attempts established (latest wins), the attempt's
    escalation, dialog and transcript."""
    att = s.get(Attempt, attempt_id)
    if att is None:
        raise LookupError(f"attempt {attempt_id} vanished")
    person = s.get(Person, att.person_id)
    assert person is not None
    slots: dict[str, Any] = {}
    for r in s.exec(select(Result).where(Result.person_id == att.person_id).order_by(col(Result.id))).all():
        if r.value is not None:
            slots[r.slot] = r.value
    esc = s.exec(select(Escalation).where(Escalation.attempt_id == attempt_id)).first()
    turns = s.exec(select(Turn).where(Turn.attempt_id == attempt_id).order_by(col(Turn.seq))).all()
    return {
        "attempt_id": attempt_id, "campaign_id": att.campaign_id, "person_id": att.person_id,
        "person": {**person_fields(person), "phone": person.phone}, "outcome": outcome, "state": state,
        "slots": slots,
        "escalation": {"reason": esc.reason, "step": esc.step, "detail": esc.detail} if esc is not None else None,
        "dialog": att.dialog_name, "dialog_version": att.dialog_version,
        "transcript": [_turn(t) for t in turns], "sip_status": att.sip_status, "at": at.isoformat(),
    }


def _turn(t: Turn) -> dict[str, Any]:
    d = {"speaker": t.speaker, "text": t.text, "step": t.step, "kind": t.kind, "parse": t.parse,
         "confidence": t.confidence, "at": t.line_at, "audio": t.audio_path}
    return {k: v for k, v in d.items() if v is not None}
