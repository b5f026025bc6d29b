"""An operator's hold on a case: claim it (or renew one's own claim) and give it back unresolved.
The escalation row and the audit row are written in the caller's one transaction: they commit
together or not at all (bot.attempt.resolution ends the case the same way).

A claim is one conditional UPDATE, so two operators can never hold one case: the row changes
only while it is open or its previous claim has expired (or is the claimer's own), and exactly
one of two racing updates matches. Claims expire, so an abandoned case returns to the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col

from bot.attempt.resolution import AuditEntry
from storage.models import AuditEvent, Escalation, EscalationStatus


class NotClaimable(Exception):
    """The case cannot be claimed; `code`: "missing", "closed" or "taken". Nothing changed."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def claim_case(s: Session, case_id: int, user_id: int, minutes: float, *, now: datetime,
               audit: AuditEntry | None = None) -> None:
    """Claim (or renew one's own claim on) a case for `minutes`; NotClaimable when another holds
    it, it is closed or missing."""
    claimable = and_(
        Escalation.id == case_id,
        or_(
            Escalation.status == EscalationStatus.OPEN,
            and_(Escalation.status == EscalationStatus.CLAIMED,
                 or_(Escalation.claimed_by == user_id, col(Escalation.claim_expires_at) < now,
                     col(Escalation.claim_expires_at).is_(None))),
        ),
    )
    stmt = (update(Escalation).where(claimable)
            .values(status=EscalationStatus.CLAIMED, claimed_by=user_id,
                    claim_expires_at=now + timedelta(minutes=minutes)))
    if s.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
        _audit(s, "case.claim", case_id, audit)
        return
    esc = s.get(Escalation, case_id)
    if esc is None:
        raise NotClaimable("missing")
    if esc.status in (EscalationStatus.RESOLVED, EscalationStatus.RETURNED_TO_BOT):
        raise NotClaimable("closed")
    raise NotClaimable("taken")


def release_case(s: Session, case_id: int, user_id: int, *, audit: AuditEntry | None = None) -> bool:
    """Give a claimed case back to the queue unresolved; False when `user_id` does not hold it
    (nothing changes, nothing audited here)."""
    stmt = (update(Escalation)
            .where(Escalation.id == case_id, Escalation.status == EscalationStatus.CLAIMED,
                   Escalation.claimed_by == user_id)
            .values(status=EscalationStatus.OPEN, claimed_by=None, claim_expires_at=None))
    if s.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        return False
    _audit(s, "case.release", case_id, audit)
    return True


def _audit(s: Session, action: str, case_id: int, audit: AuditEntry | None) -> None:
    if audit is not None:
        s.add(AuditEvent(actor=audit.actor[:100], action=action, target_type="escalation",
                         target_id=str(case_id), source=audit.source[:64], detail=audit.detail))
        s.flush()  # refused here, inside the transaction, if the audit trail cannot take it
