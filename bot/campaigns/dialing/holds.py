"""Workers holding new calls back (admission control, bot/pipeline/headroom.py), as the database
knows them, so `veribot campaigns status` (another process) and the console can say it.

The dialer writes an audit row when its worker starts holding (`worker.holding`, detail: the
reason as JSON — a sign's name and numbers, never personal data), again with each heartbeat while
it holds, and one when it resumes (`worker.resumed`). A worker holds now when its latest such row
is a hold younger than `fresh` (a worker that died while holding stops counting after that).
The reasons are English msgids (marked `N_` for the console's catalogue)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent

HOLDING, RESUMED = "worker.holding", "worker.resumed"


def N_(msgid: str) -> str:
    return msgid


REASONS = {
    "loop_lag": N_("the event loop runs late (lag p99 %(value)s ms, limit %(limit)s ms)"),
    "queue_wait": N_("speech recognition is queueing (a turn waited %(value)s ms, limit %(limit)s ms)"),
    "late_frames": N_("audio frames leave late on the line (%(value)s late, limit %(limit)s)"),
    "recognition": N_("callers wait for speech recognition (p95 %(value)s ms, limit %(limit)s ms)"),
    "cpu_wait": N_("the worker waits for a CPU core (%(value)s ms a second, limit %(limit)s ms)"),
    "storage": N_("the database refuses writes (storage alarm)"),
}
HOLD_LINE = N_("Worker %(worker)s is holding new calls back since %(since)s: %(reason)s. Calls in progress "
               "go on; the people held back are called once it has headroom again.")


THIS_WORKER = N_("This worker is holding new calls back: %(reason)s. Inbound calls are told to try again "
                 "later and the dialer waits; calls in progress go on, and the people held back are called "
                 "once it has headroom again.")


def reason_text(reason: dict[str, Any], gettext: Any = None) -> str:
    """One reason (`Reason.as_dict()`) in the reader's language (`gettext`; None: English)."""
    _ = gettext or (lambda m: m)
    params = {"value": f"{float(reason.get('value', 0)):.0f}", "limit": f"{float(reason.get('limit', 0)):.0f}"}
    msgid = REASONS.get(str(reason.get("code")), REASONS["loop_lag"])
    return _(msgid) % params if "%(" in msgid else _(msgid)


def admission_line(admission: Any, gettext: Any = None) -> str:
    """The dashboard's line while this worker's headroom holds new calls ("" when it does not;
    the storage alarm has its own line)."""
    held = admission.holding()
    if held is None:
        return ""
    _ = gettext or (lambda m: m)
    return _(THIS_WORKER) % {"reason": reason_text(held.as_dict(), gettext)}


@dataclass(frozen=True)
class Hold:
    worker: str
    since: datetime
    reason: dict[str, Any]  # {"code", "value", "limit"}

    def text(self, gettext: Any = None) -> str:
        """The line in the reader's language (`gettext`: the catalogue's; None: English)."""
        _ = gettext or (lambda m: m)
        return _(HOLD_LINE) % {"worker": self.worker, "since": self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                               "reason": reason_text(self.reason, gettext)}

    def as_dict(self) -> dict[str, Any]:
        return {"worker": self.worker, "since": self.since.isoformat(), "reason": self.reason}


def record(s: Session, worker: str, reason: dict[str, Any] | None, now: datetime) -> None:
    """The worker holds for `reason` (None: it resumed)."""
    s.add(AuditEvent(at=now, actor="dialer", action=HOLDING if reason else RESUMED, target_type="worker",
                     target_id=worker[:100], source=worker[:64], detail=json.dumps(reason or {})))


def current(s: Session, now: datetime, fresh: timedelta) -> list[Hold]:
    """Workers whose latest hold/resume row is a hold younger than `fresh`, with the hold's start."""
    rows = s.exec(select(AuditEvent).where(col(AuditEvent.action).in_((HOLDING, RESUMED)),
                                           AuditEvent.at >= now - fresh - fresh)
                  .order_by(col(AuditEvent.at), col(AuditEvent.id))).all()
    latest: dict[str, AuditEvent] = {}
    began: dict[str, datetime] = {}
    for row in rows:
        if row.action == HOLDING and (row.target_id not in latest or latest[row.target_id].action == RESUMED):
            began[row.target_id] = _aware(row.at)
        latest[row.target_id] = row
    out = []
    for worker, row in latest.items():
        if row.action == HOLDING and now - _aware(row.at) <= fresh:
            try:
                reason = json.loads(row.detail or "{}")
            except ValueError:
                reason = {}
            out.append(Hold(worker, began.get(worker, _aware(row.at)), reason))
    return out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


__all__ = ["HOLDING", "RESUMED", "Hold", "admission_line", "current", "reason_text", "record"]
