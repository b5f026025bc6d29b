"""The do-not-call list and suppression, for every campaign (one `do_not_call` row per number).

- For good (`expires_at` None): added by an admin (console / `veribot dnc add`), or by the bot when
  a resident says "别再打了" / "stop calling me" (kind `resident`, who = "bot", which attempt).
  The dialer sets such people aside (state do_not_call) and never dials them.
- For a while (`expires_at` set): a number that answered "wrong number" in one campaign is not
  dialled by any *other* campaign for `[campaigns] suppression_days`; its people there wait
  (next_attempt_at = the end of the suppression), so the campaign page says until when.
Every change writes an AuditEvent (never the number itself in the detail: the row id is the target).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from storage.models import AuditEvent, DoNotCall, Escalation, Person, PersonState, utcnow

RESIDENT_OUTCOME = "do_not_call"  # the dialog's outcome when the resident asks not to be called


@dataclass(frozen=True)
class Entry:
    id: int
    phone: str
    kind: str
    reason: str
    added_by: str
    created_at: datetime
    expires_at: datetime | None
    campaign_id: int | None
    attempt_id: int | None


def _entry(r: DoNotCall) -> Entry:
    return Entry(r.id, r.phone, r.kind, r.reason, r.added_by, r.created_at, r.expires_at, r.campaign_id,
                 r.attempt_id)


def _audit(s: Session, actor: str, action: str, row: DoNotCall, source: str, detail: str) -> None:
    s.add(AuditEvent(actor=actor, action=action, target_type="do_not_call", target_id=str(row.id),
                     source=source, detail=detail))


def add(s: Session, phone: str, *, actor: str, source: str, reason: str = "", kind: str = "manual",
        campaign_id: int | None = None, attempt_id: int | None = None, now: datetime | None = None) -> Entry:
    """Put `phone` (E.164) on the list for good; a suppression of it becomes permanent. Pending
    people with that number are set aside at once. Idempotent."""
    now = now or utcnow()
    row = s.exec(select(DoNotCall).where(DoNotCall.phone == phone)).first()
    if row is not None and row.expires_at is None:
        return _entry(row)
    if row is None:
        row = DoNotCall(phone=phone, created_at=now)
    row.kind, row.reason, row.added_by, row.expires_at = kind, reason[:200], actor[:100], None
    row.campaign_id, row.attempt_id, row.created_at = campaign_id, attempt_id, now
    s.add(row)
    s.flush()
    s.execute(update(Person).where(Person.phone == phone, Person.state == PersonState.PENDING)
              .values(state=PersonState.DO_NOT_CALL, updated_at=now))
    what = f"kind={kind}" + (f" campaign={campaign_id} attempt={attempt_id}" if attempt_id else "")
    _audit(s, actor, "dnc.add", row, source, what)
    return _entry(row)


def add_from_case(s: Session, case_id: int, *, actor: str, source: str, reason: str = "",
                  now: datetime | None = None) -> Entry | None:
    """An operator lists the number of a case's person (the resident asked on the call, noted on the
    case by the dialog): `add` with the case's campaign and attempt, audited like every addition
    (kind `manual`, the number never in the audit). None: no such case."""
    esc = s.get(Escalation, case_id)
    person = s.get(Person, esc.person_id) if esc is not None else None
    if esc is None or person is None:
        return None
    return add(s, person.phone, actor=actor, source=source, reason=reason or f"case {case_id}", kind="manual",
               campaign_id=esc.campaign_id, attempt_id=esc.attempt_id, now=now)


def remove(s: Session, phone: str, *, actor: str, source: str, now: datetime | None = None) -> bool:
    """Take `phone` off the list (and out of suppression). Its people set aside become pending
    again. False when it was not listed."""
    row = s.exec(select(DoNotCall).where(DoNotCall.phone == phone)).first()
    if row is None:
        return False
    _audit(s, actor, "dnc.remove", row, source, f"kind={row.kind}")
    s.delete(row)
    s.execute(update(Person).where(Person.phone == phone, Person.state == PersonState.DO_NOT_CALL,
                                   Person.purged == False)  # noqa: E712
              .values(state=PersonState.PENDING, next_attempt_at=None, updated_at=now or utcnow()))
    return True


def suppress(s: Session, phone: str, *, days: float, campaign_id: int, attempt_id: int, reason: str,
             now: datetime) -> None:
    """Keep other campaigns from dialling `phone` for `days` (a listed number stays listed)."""
    if days <= 0:
        return
    until = now + timedelta(days=days)
    row = s.exec(select(DoNotCall).where(DoNotCall.phone == phone)).first()
    if row is not None and (row.expires_at is None or row.expires_at >= until):
        return
    if row is None:
        row = DoNotCall(phone=phone)
    row.kind, row.reason, row.added_by, row.created_at, row.expires_at = "wrong_number", reason, "bot", now, until
    row.campaign_id, row.attempt_id = campaign_id, attempt_id
    s.add(row)
    s.flush()
    _audit(s, "bot", "dnc.suppress", row, "dialer", f"campaign={campaign_id} attempt={attempt_id} days={days:g}")


def after_call(s: Session, *, phone: str, outcome: str, campaign_id: int, attempt_id: int, now: datetime,
               days: float) -> None:
    """In an attempt's final commit: "别再打了" lists the number; a wrong number suppresses it."""
    if outcome == RESIDENT_OUTCOME:
        add(s, phone, actor="bot", source="dialer", reason="resident asked not to be called again",
            kind="resident", campaign_id=campaign_id, attempt_id=attempt_id, now=now)
    elif outcome == "wrong_number":
        suppress(s, phone, days=days, campaign_id=campaign_id, attempt_id=attempt_id,
                 reason="wrong number", now=now)


def blocked_columns(campaign_id: int, now: datetime) -> tuple[Any, Any]:
    """Two SQL expressions over Person for the dialer's claim: listed for good (bool), and the end
    of a suppression that applies to this campaign (datetime or NULL)."""
    listed = select(DoNotCall.id).where(DoNotCall.phone == Person.phone, DoNotCall.expires_at.is_(None)).exists()
    until = (select(func.max(DoNotCall.expires_at))
             .where(DoNotCall.phone == Person.phone, DoNotCall.expires_at > now,
                    or_(DoNotCall.campaign_id.is_(None), DoNotCall.campaign_id != campaign_id))
             .scalar_subquery())
    return listed, until


def is_listed(s: Session, phone: str) -> bool:
    return s.exec(select(DoNotCall.id).where(DoNotCall.phone == phone, DoNotCall.expires_at.is_(None))).first() \
        is not None


def entries(s: Session, now: datetime | None = None, *, include_expired: bool = False) -> list[Entry]:
    now = now or utcnow()
    q = select(DoNotCall).order_by(DoNotCall.created_at.desc(), DoNotCall.id.desc())
    if not include_expired:
        q = q.where(or_(DoNotCall.expires_at.is_(None), DoNotCall.expires_at > now))
    return [_entry(r) for r in s.exec(q).all()]


__all__ = ["Entry", "add", "add_from_case", "after_call", "blocked_columns", "entries", "is_listed", "remove", "suppress"]
