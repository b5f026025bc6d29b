"""The append-only audit trail: who did what to which record, when (UTC) and from where.
Rows name records by id and never hold the personal data itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AuditEvent


def record(s: Session, actor: str, action: str, target_type: str = "", target_id: str | int = "",
           source: str = "", detail: str = "") -> None:
    s.add(AuditEvent(actor=actor[:100], action=action[:100], target_type=target_type[:50],
                     target_id=str(target_id)[:100], source=source[:64], detail=detail))


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


def search(s: Session, f: AuditFilter) -> list[AuditEvent]:
    q = select(AuditEvent)
    if f.actor:
        q = q.where(AuditEvent.actor == f.actor)
    if f.action:
        q = q.where(col(AuditEvent.action).startswith(f.action))
    if f.target_type:
        q = q.where(AuditEvent.target_type == f.target_type)
    if f.since:
        q = q.where(AuditEvent.at >= f.since)
    if f.until:
        q = q.where(AuditEvent.at < f.until)
    q = q.order_by(col(AuditEvent.id).desc()).limit(max(1, min(f.limit, 1000)))
    return list(s.exec(q).all())
