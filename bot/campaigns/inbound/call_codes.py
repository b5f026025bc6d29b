"""Call codes: every outbound attempt gets a short code the greeting says ({call_code}). A
resident who calls the official number back and keys it hears the call was genuine and by
whom; keyed from the number that was called, it also proves the callback's identity
(`Callbacks.verify`).

    code = new_code()                          # at claim time, stored on the Attempt
    variables = code_variables(code)           # {"call_code": "4 7 2 1 0 9"} (said digit by digit)
    match = find_code(s, "+8613800000001", "472109", now, valid=timedelta(days=14))

The code is stored with the attempt (the case page shows it to staff, who may read it to a
resident); it is a short-lived token, not a password: the verifier locks a number out after
three wrong codes, and a code only counts within `[agency] code_valid_days` of its call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Attempt

CODE_DIGITS = 6


def new_code(digits: int = CODE_DIGITS) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def code_variables(code: str | None) -> dict[str, str]:
    """Prompt variables of a call with this code: digits spaced so every voice says them one by one."""
    return {"call_code": " ".join(code)} if code else {}


@dataclass(frozen=True)
class CodeMatch:
    attempt_id: int
    person_id: int
    campaign_id: int
    phone: str
    called_at: datetime | None

    def same_number(self, phone: str) -> bool:
        return self.phone == phone


def find_code(s: Session, phone: str | None, code: str, now: datetime, valid: timedelta) -> CodeMatch | None:
    """The attempt that gave `code` within `valid` of now — one to `phone` first (that proves
    the callback), else one to any number (that only proves the call was genuine)."""
    if not code.isdigit():
        return None
    since = now - valid
    rows = s.exec(select(Attempt).where(Attempt.call_code == code, col(Attempt.claimed_at) >= since)
                  .order_by(col(Attempt.id).desc())).all()
    best = next((a for a in rows if phone and a.phone == phone), rows[0] if rows else None)
    if best is None:
        return None
    return CodeMatch(best.id, best.person_id, best.campaign_id, best.phone, best.started_at or best.claimed_at)
