"""CallRecorder: stores a call's turns as they happen and its final record.

    rec = CallRecorder(db, attempt)                   # attempt: storage.models.Attempt (ids, phone)
    request = CallRequest(..., on_turn=rec.on_turn)   # on_turn never blocks: writes go to the db thread
    result = await runner.run(request)
    await rec.finish(result, also=lambda s: ...)      # attempt + results + escalation (+ `also`) in ONE commit

`on_turn` is called from the event loop by the dialog engine; each turn is handed to the database
thread pool (a single thread on SQLite, so turns land in order; `seq` is fixed when the turn is
received anyway). The first caller turn moves the attempt to `in_call`. `finish` waits for those
writes, adds any turns of the record that were not reported, then commits the final state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlmodel import Session, select

from bot.calls import CallResult, NetworkOutcome
from bot.dialog.events import Turn as DialogTurn
from storage.db import Database
from storage.models import Attempt, AttemptState, Escalation, Result, Turn, utcnow

log = logging.getLogger(__name__)


class CallRecorder:
    def __init__(self, db: Database, attempt: Attempt, *, priority: int = 5, clock: Callable = utcnow) -> None:
        if attempt.id is None:
            raise ValueError("the attempt must be stored (claimed) before it is recorded")
        self.db = db
        self.attempt_id = attempt.id
        self.person_id = attempt.person_id
        self.campaign_id = attempt.campaign_id
        self.priority = priority
        self.clock = clock
        self.seq = 0
        self._pending: list[Future] = []
        self._in_call = False

    # ------------------------------------------------------------ live turns
    def on_turn(self, turn: DialogTurn) -> None:
        """Record one turn without blocking the caller (the audio loop)."""
        self.seq += 1
        row = _turn_row(self.attempt_id, self.seq, turn, self.clock())
        mark_in_call = not self._in_call
        self._in_call = True
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self.db._pool.submit(self.db.run, lambda s: _write_turn(s, row, mark_in_call)))

    async def flush(self) -> None:
        """Wait for the turns handed over so far to be committed (errors are logged, not raised)."""
        pending, self._pending = self._pending, []
        for fut in pending:
            try:
                await asyncio.wrap_future(fut)
            except Exception as exc:  # a lost turn must not lose the rest of the call
                log.error("attempt %s: a turn could not be stored: %s", self.attempt_id, type(exc).__name__)

    # ------------------------------------------------------------ the end
    async def finish(self, result: CallResult, also: Callable[[Session], Any] | None = None,
                     outcome: str | None = None, now: Any = None) -> None:
        """Store the final state of the attempt, its slot values and escalation in one commit.
        `outcome="interrupted"` marks a call cut short by the worker (state interrupted)."""
        await self.flush()
        await self.db.arun(lambda s: self.write_final(s, result, also, outcome, now))

    def write_final(self, s: Session, result: CallResult, also: Callable[[Session], Any] | None = None,
                    outcome: str | None = None, now: Any = None) -> None:
        now = now or self.clock()
        att = s.get(Attempt, self.attempt_id)
        if att is None:
            raise LookupError(f"attempt {self.attempt_id} vanished")
        rec = result.record
        att.outcome = outcome or outcome_of(result)
        att.state = AttemptState.INTERRUPTED if att.outcome == "interrupted" else AttemptState.ENDED
        att.ended_at = now
        att.network_outcome = str(result.network)
        att.sip_status = result.sip_status
        att.retry_after = result.retry_after
        att.audio_dir = result.audio_dir
        att.detail = (result.detail or "")[:500]
        if rec is not None:
            att.dialog_name, att.dialog_version = rec.dialog, rec.dialog_version
            stored = len(s.exec(select(Turn.id).where(Turn.attempt_id == self.attempt_id)).all())
            for i, turn in enumerate(rec.transcript[stored:], start=stored + 1):
                s.add(_turn_row(self.attempt_id, i, turn, now))
            for slot, value in rec.slots.items():
                if value is not None:
                    s.add(Result(attempt_id=self.attempt_id, person_id=self.person_id,
                                 campaign_id=self.campaign_id, slot=slot, value=value,
                                 dialog_version=rec.dialog_version, created_at=now))
            if rec.escalation:
                att.escalation_reason = str(rec.escalation.get("reason", ""))[:30]
                s.add(Escalation(attempt_id=self.attempt_id, person_id=self.person_id,
                                 campaign_id=self.campaign_id, reason=att.escalation_reason,
                                 step=rec.escalation.get("step"), detail=str(rec.escalation.get("detail", "")),
                                 priority=self.priority, created_at=now))
        s.add(att)
        if also is not None:
            also(s)


def outcome_of(result: CallResult) -> str:
    """The attempt's outcome: the conversation's when answered, else the network's."""
    if result.network == NetworkOutcome.ANSWERED:
        if result.record is not None and result.record.outcome:
            return str(result.record.outcome)
        return "failed"
    return str(result.network)


def _turn_row(attempt_id: int, seq: int, turn: DialogTurn, at: Any) -> Turn:
    return Turn(attempt_id=attempt_id, seq=seq, speaker=str(turn.speaker), text=turn.text or "",
                step=turn.step, kind=turn.kind, parse=turn.parse, confidence=turn.confidence, at=at)


def _write_turn(s: Session, row: Turn, mark_in_call: bool) -> None:
    s.add(row)
    if mark_in_call:
        att = s.get(Attempt, row.attempt_id)
        if att is not None and att.state in (AttemptState.CLAIMED, AttemptState.DIALLING):
            att.state = AttemptState.IN_CALL
            s.add(att)
