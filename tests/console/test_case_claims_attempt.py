"""Claiming and releasing a case write their rows through the attempt (issue 21 item 1): the
escalation row and its audit row commit together or not at all, and no console module writes
escalation rows itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.attempt.resolution import AuditEntry
from bot.console import cases
from storage.db import Database
from storage.models import AuditEvent, Escalation, EscalationStatus

from .seed import add_users
from .test_attempt_owns_rows import _escalated_call

ROOT = Path(__file__).resolve().parents[2]


def _refusing(action: str):
    def refuse(session: Session, *_: object) -> None:  # the audit trail cannot take this row
        if any(isinstance(o, AuditEvent) and o.action == action for o in session.new):
            raise RuntimeError("audit trail refused")
    return refuse


def _audits(db: Database, action: str) -> list[AuditEvent]:
    return db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == action)).all(), write=False)


async def test_a_claim_and_its_audit_row_commit_together(db: Database) -> None:
    case_id, _ = await _escalated_call(db)
    op = add_users(db, ("op1", "operator"))["op1"]
    refuse = _refusing("case.claim")
    event.listen(Session, "before_flush", refuse)
    try:
        with pytest.raises(RuntimeError):
            db.run(lambda s: cases.claim(s, case_id, op, 30, audit=AuditEntry("op1", "127.0.0.1")))
    finally:
        event.remove(Session, "before_flush", refuse)
    esc = db.run(lambda s: s.get(Escalation, case_id), write=False)
    assert (esc.status, esc.claimed_by) == (EscalationStatus.OPEN, None)  # no claim without its audit row
    db.run(lambda s: cases.claim(s, case_id, op, 30, audit=AuditEntry("op1", "127.0.0.1")))
    esc = db.run(lambda s: s.get(Escalation, case_id), write=False)
    assert (esc.status, esc.claimed_by) == (EscalationStatus.CLAIMED, op)
    (audit,) = _audits(db, "case.claim")
    assert (audit.actor, audit.target_type, audit.target_id, audit.source) == ("op1", "escalation", str(case_id),
                                                                               "127.0.0.1")


async def test_a_release_and_its_audit_row_commit_together(db: Database) -> None:
    case_id, _ = await _escalated_call(db)
    ids = add_users(db, ("op1", "operator"), ("op2", "operator"))
    db.run(lambda s: cases.claim(s, case_id, ids["op1"], 30))
    assert db.run(lambda s: cases.release(s, case_id, ids["op2"], AuditEntry("op2"))) is False  # not the holder
    refuse = _refusing("case.release")
    event.listen(Session, "before_flush", refuse)
    try:
        with pytest.raises(RuntimeError):
            db.run(lambda s: cases.release(s, case_id, ids["op1"], AuditEntry("op1", "127.0.0.1")))
    finally:
        event.remove(Session, "before_flush", refuse)
    assert db.run(lambda s: s.get(Escalation, case_id), write=False).status == EscalationStatus.CLAIMED
    assert db.run(lambda s: cases.release(s, case_id, ids["op1"], AuditEntry("op1", "127.0.0.1"))) is True
    esc = db.run(lambda s: s.get(Escalation, case_id), write=False)
    assert (esc.status, esc.claimed_by, esc.claim_expires_at) == (EscalationStatus.OPEN, None, None)
    assert [(a.actor, a.target_id) for a in _audits(db, "case.release")] == [("op1", str(case_id))]


def test_only_the_attempt_writes_escalation_rows() -> None:
    """No console (or dialer) module writes escalation rows itself: the attempt does (its spool's
    replay of a refused write, bot.campaigns.outage.escalation_spool, writes the attempt's row)."""
    writes = re.compile(r"update\(Escalation\)|\bEscalation\(|insert\(Escalation\)")
    allowed = {ROOT / "bot" / "campaigns" / "outage" / "escalation_spool.py"}
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py")
             if p not in allowed and "attempt" not in p.relative_to(ROOT).parts[:2]
             and writes.search(p.read_text(encoding="utf-8"))]
    assert found == []
