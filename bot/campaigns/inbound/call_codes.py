"""Call codes: every outbound attempt gets a short code the greeting says ({call_code}). A
resident who calls the official number back and keys it hears the call was genuine and by
whom; keyed from the number that was called, it also proves the callback's identity
(`Callbacks.verify`).

    code = new_code()                          # at claim time, stored on the Attempt
    variables = code_variables(code)           # {"call_code": "4 7 2 1 0 9"} (said digit by digit)
    match = find_code(s, "+8613800000001", "472109", now, valid=timedelta(days=14))

The code is stored with the attempt (the case page shows it to staff, who may read it to a
resident); it is a short-lived token, not a password, and a code only counts within
`[agency] code_valid_days` of its call.

Guessing budget (`CodeGuard`, in the database: shared by every worker, kept across restarts),
keyed on the caller's number in E.164 whatever way it is written (13800138007, +8613800138007,
008613800138007, (138)0013-8007 ... are one number; a caller ID that is not a number shares
one "anonymous" budget). A guess is counted *before* the code is checked (a burst of calls
cannot all slip in under the limit) and uncounted when it was not wrong:
- per number: 3 wrong codes an hour, 10 a day (`[agency] code_guesses_per_hour/_per_day`);
- per code: once the number a code was given to has had 20 wrong codes since that call
  (`code_guesses_per_code`), no code of that number's calls proves it any more: the resident
  is told to wait (and may call the official number). A guesser therefore has at most 20 tries
  at one 6-digit code in its whole validity: a chance of 20 in 1,000,000.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from storage.models import Attempt, CodeGuess, utcnow

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


@dataclass(frozen=True)
class GuessBudget:
    """Wrong call codes a number may key: per hour, per day, and per code (since the call that
    gave it, over the code's validity). Stated in the module docstring and config.toml."""

    per_hour: int = 3
    per_day: int = 10
    per_code: int = 20


class CodeGuard:
    """The callback-code lockout (bot.telephony.calls.caller_verification `code_verifier(lockout=...)`), durable:
    `acquire(number)` counts a guess for the number's E.164 form in one write transaction
    (serialised per number: BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL) and
    returns its ticket, or None when the number is out of budget; `release(ticket)` uncounts
    a guess that was not wrong."""

    def __init__(self, db: Any, normalise: Callable[[str], str | None], *, budget: GuessBudget | None = None,
                 valid: timedelta = timedelta(days=14), clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.normalise, self.clock = db, normalise, clock
        self.budget = budget or GuessBudget()
        self.valid = valid

    def key(self, number: str) -> str:
        return self.normalise(number) or "anonymous"

    async def acquire(self, number: str) -> int | None:
        phone, now = self.key(number), self.clock()
        return await self.db.arun(lambda s: self._acquire(s, phone, now))

    async def release(self, ticket: int) -> None:
        await self.db.arun(lambda s: s.execute(delete(CodeGuess).where(CodeGuess.id == ticket)))

    async def locked(self, number: str) -> bool:
        phone, now = self.key(number), self.clock()
        return await self.db.arun(lambda s: self._over(s, phone, now), write=False)

    def _acquire(self, s: Session, phone: str, now: datetime) -> int | None:
        if s.get_bind().dialect.name == "postgresql":  # one guess of a number at a time, across workers
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x5EC0DE00000000 + zlib.crc32(phone.encode())})
        if self._over(s, phone, now):
            return None
        s.execute(delete(CodeGuess).where(CodeGuess.at < now - max(self.valid, timedelta(days=1))))
        row = CodeGuess(phone=phone, at=now)
        s.add(row)
        s.flush()
        return row.id

    def _over(self, s: Session, phone: str, now: datetime) -> bool:
        def wrong_since(since: datetime) -> int:
            return s.exec(select(func.count()).select_from(CodeGuess).where(
                CodeGuess.phone == phone, CodeGuess.at >= since)).one()

        b = self.budget
        if wrong_since(now - timedelta(hours=1)) >= b.per_hour or wrong_since(now - timedelta(days=1)) >= b.per_day:
            return True
        # per code: the oldest code still valid for this number has had its share of guesses
        first = s.exec(select(func.min(Attempt.claimed_at)).where(
            Attempt.phone == phone, Attempt.call_code.is_not(None), col(Attempt.claimed_at) >= now - self.valid)).one()
        return first is not None and wrong_since(first) >= b.per_code
