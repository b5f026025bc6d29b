"""CallRecorder: stores a call's turns as they happen and its final record.

    rec = CallRecorder(db, attempt)                   # attempt: storage.models.Attempt (ids, phone)
    request = CallRequest(..., on_turn=rec.on_turn)   # on_turn never blocks: writes go to the db thread
    result = await runner.run(request)
    await rec.finish(result, also=lambda s: ...)      # attempt + results + escalation (+ `also`) in ONE commit

`on_turn` is called from the event loop by the dialog engine; each turn is handed to the database's
group-commit writer thread (in order; `seq` is fixed when the turn is received anyway). The first caller turn moves the attempt to `in_call`. `finish` waits for those
writes, adds any turns of the record that were not reported, then commits the final state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from bot.calls import CallResult, NetworkOutcome
from bot.dialog.events import Turn as DialogTurn
from storage.db import Database, InsertRows
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
        self._pending: list[tuple[Future, dict[str, Any]]] = []
        self._unstored: list[dict[str, Any]] = []
        self._in_call = False

    # ------------------------------------------------------------ live turns
    def on_turn(self, turn: DialogTurn) -> None:
        """Record one turn without blocking the caller (the audio loop)."""
        self.seq += 1
        row = _turn_row(self.attempt_id, self.seq, turn, self.clock())
        if not self._in_call:
            self._in_call = True
            self.db.submit(lambda s: _mark_in_call(s, self.attempt_id))
        self._pending = [(f, r) for f, r in self._pending if not f.done() or f.exception() is not None]
        self._pending.append((self.db.submit(InsertRows(Turn, [row])), row))

    async def flush(self) -> None:
        """Wait for the turns handed over so far; a turn that could not be stored is kept for `finish`."""
        pending, self._pending = self._pending, []
        for fut, row in pending:
            try:
                await asyncio.wrap_future(fut)
            except Exception as exc:  # a lost turn must not lose the rest of the call
                log.error("attempt %s: turn %s not stored yet (%s)", self.attempt_id, row["seq"], type(exc).__name__)
                self._unstored.append(row)

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
        rec = result.record
        values: dict[str, Any] = {
            "outcome": outcome or outcome_of(result), "ended_at": now, "network_outcome": str(result.network),
            "sip_status": result.sip_status, "retry_after": result.retry_after, "audio_dir": result.audio_dir,
            "detail": (result.detail or "")[:500],
        }
        values["state"] = AttemptState.INTERRUPTED if values["outcome"] == "interrupted" else AttemptState.ENDED
        turns = list(self._unstored)
        if rec is not None:
            values["dialog_name"], values["dialog_version"] = rec.dialog, rec.dialog_version
            turns += [_turn_row(self.attempt_id, i, t, now)
                      for i, t in enumerate(rec.transcript[self.seq:], start=self.seq + 1)]
            results = [{"attempt_id": self.attempt_id, "person_id": self.person_id, "campaign_id": self.campaign_id,
                        "slot": slot, "value": value, "dialog_version": rec.dialog_version, "source": "bot",
                        "created_at": now} for slot, value in rec.slots.items() if value is not None]
            if results:
                s.execute(insert(Result), results)
            if rec.escalation:
                values["escalation_reason"] = str(rec.escalation.get("reason", ""))[:30]
                s.add(Escalation(attempt_id=self.attempt_id, person_id=self.person_id,
                                 campaign_id=self.campaign_id, reason=values["escalation_reason"],
                                 step=rec.escalation.get("step"), detail=str(rec.escalation.get("detail", "")),
                                 priority=self.priority, created_at=now))
        if turns:
            s.execute(insert(Turn), turns)
        done = s.execute(update(Attempt).where(Attempt.id == self.attempt_id).values(**values))
        if done.rowcount != 1:
            raise LookupError(f"attempt {self.attempt_id} vanished")
        if also is not None:
            also(s)


def outcome_of(result: CallResult) -> str:
    """The attempt's outcome: the conversation's when answered, else the network's."""
    if result.network == NetworkOutcome.ANSWERED:
        if result.record is not None and result.record.outcome:
            return str(result.record.outcome)
        return "failed"
    return str(result.network)


def _turn_row(attempt_id: int, seq: int, turn: DialogTurn, at: Any) -> dict[str, Any]:
    return {"attempt_id": attempt_id, "seq": seq, "speaker": str(turn.speaker), "text": turn.text or "",
            "step": turn.step, "kind": turn.kind, "parse": turn.parse, "confidence": turn.confidence, "at": at,
            "audio_path": getattr(turn, "audio", None)}


def _mark_in_call(s: Session, attempt_id: int) -> None:
    s.execute(update(Attempt).where(Attempt.id == attempt_id,
                                    Attempt.state.in_((AttemptState.CLAIMED, AttemptState.DIALLING)))
              .values(state=AttemptState.IN_CALL))
