"""The attempt owns a person's record (issue 21 item 1): an operator's resolution writes its rows
and its audit row in one transaction, and pushes the same result payload a call pushes."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.attempt.resolution import AuditEntry
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.console import cases
from bot.dialog.script import load_script
from bot.simulate import run_text
from storage.db import Database
from storage.models import AuditEvent, Escalation, EscalationStatus, WebhookDelivery

from .seed import add_users

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "campaigns"))
from campaign_fakes import Clock, add_campaign

ROOT = Path(__file__).resolve().parents[2]
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}


async def _escalated_call(db: Database) -> tuple[int, dict]:
    """A dialled call that ends escalated (the caller asks for a person), settled with the outbox on:
    returns the case id and the payload the call pushed."""
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    script = load_script(ROOT / "dialogs" / "verification.zh-CN.yaml")
    attempt = CallAttempt(db, claim, script, clock=clock, outbox=True)
    request = attempt.request(VARS)
    record = run_text(script, claim.person, ["是 的", "城关区 白银 路", "我 要 找 人工"], VARS,
                      observers=list(request.observers)).record
    assert record.escalation is not None and record.escalation.reason == "requested_human"
    await attempt.settle(CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200), RetryPolicy())
    case_id = db.run(lambda s: s.exec(select(Escalation.id)).one(), write=False)
    payload = db.run(lambda s: s.exec(select(WebhookDelivery)).one().payload, write=False)
    return case_id, payload


def _claim_case(db: Database, case_id: int) -> int:
    user_id = add_users(db, ("op1", "operator"))["op1"]
    db.run(lambda s: cases.claim(s, case_id, user_id, 30))
    return user_id


async def test_a_resolution_pushes_the_payload_a_call_pushes(db: Database) -> None:
    case_id, from_call = await _escalated_call(db)
    user_id = _claim_case(db, case_id)
    db.run(lambda s: cases.resolve(s, case_id, user_id, {}, "called back", cases.Resolution.CLOSE, outbox=True))
    deliveries = db.run(lambda s: s.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all(), write=False)
    assert [d.idempotency_key for d in deliveries][1] == f"resolution-{case_id}"
    from_case = deliveries[1].payload
    assert (from_case["outcome"], from_case["state"]) == ("resolved_by_operator", "completed")
    same = {k: v for k, v in from_call.items() if k not in ("outcome", "state", "at")}
    assert {k: v for k, v in from_case.items() if k not in ("outcome", "state", "at")} == same
    assert same["transcript"] and same["escalation"]["reason"] == "requested_human" and same["dialog"]


async def test_a_resolution_and_its_audit_row_commit_together(db: Database) -> None:
    case_id, _ = await _escalated_call(db)
    user_id = _claim_case(db, case_id)

    def refuse_audit(session: Session, *_: object) -> None:  # the audit row cannot be written
        if any(isinstance(o, AuditEvent) and o.action == "case.close" for o in session.new):
            raise RuntimeError("audit trail refused")

    event.listen(Session, "before_flush", refuse_audit)
    try:
        with pytest.raises(RuntimeError):
            db.run(lambda s: cases.resolve(s, case_id, user_id, {"health_code": "yellow"}, "x",
                                           cases.Resolution.CLOSE, audit=AuditEntry("op1", "127.0.0.1")))
    finally:
        event.remove(Session, "before_flush", refuse_audit)
    esc = db.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.CLAIMED  # nothing resolved without its audit row
    db.run(lambda s: cases.resolve(s, case_id, user_id, {}, "x", cases.Resolution.CLOSE,
                                   audit=AuditEntry("op1", "127.0.0.1", "slots corrected: none")))
    audit = db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "case.close")).one(), write=False)
    assert (audit.actor, audit.target_id, audit.source) == ("op1", str(case_id), "127.0.0.1")
    assert db.run(lambda s: s.get(Escalation, case_id), write=False).status == EscalationStatus.RESOLVED
