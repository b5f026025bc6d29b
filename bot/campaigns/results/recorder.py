"""CallRecorder: stores a call as it happens, then its end as one unit of work.

    rec = CallRecorder(db, claim)                      # claim: bot.campaigns.dialing.claims.Claim (committed)
    request = CallRequest(..., observers=(rec.observe,))
    result = await runner.run(request)
    await rec.finish(result, policy, outcome=outcome_of(result))   # attempt + results + escalation
                                                                    # + the person settled, ONE commit

`observe(note)` is called by the call's dialog session (bot.dialog.session) on the event loop and
never blocks it: each note becomes a write queued to the database's group-commit writer thread
(in order; a turn's `seq` is fixed when it is received):
- a `Turn` -> a transcript row (the first one moves the attempt to `in_call`);
- a `SlotFilled` -> the attempt's `Result` row for that slot (inserted, or updated if the caller
  changed the answer), so every answer heard is stored when heard: a worker killed mid-call
  leaves it, and the next call (prefilled from results) does not ask it again;
- an `Escalate` -> the attempt's `Escalation` row (the operator's queue), when the dialog promises
  the resident a call back, not at the end of the call; a write that fails goes to the spool
  (bot.campaigns.outage.escalation_spool) and is replayed when the database takes writes again;
- an `Answered` (bot.calls, from the SIP runner) -> `Attempt.sip_dialog`, the dialog state a
  restarted worker sends the BYE from if this worker dies (cleared when the call ends).
`finish` waits for those writes, adds any turns and slot values not stored yet, then writes the
final state of the attempt and settles the person (retry policy, webhook outbox) in one commit.

A write the database refuses (disk full, database down or read-only) raises the storage alarm
(bot.campaigns.outage.storage_alarm) at once. The recorder is also the call's storage guard for whoever runs
it (bot.telephony.calls.storage_fault): `storage_failing()` and `keep_callback(...)`, the callback
case written or spooled to disk before the resident is promised it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy import insert, null, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.calls import Answered, CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.outage import escalation_spool as spools
from bot.campaigns.outage import storage_alarm as health
from bot.campaigns.outage.escalation_spool import EscalationSpool, put_escalation
from bot.campaigns.people import followups, suppression
from bot.campaigns.results import webhook
from bot.dialog.events import Escalate, Note, PromptPlayed, SlotFilled
from bot.dialog.events import Turn as DialogTurn
from storage.db import Database, InsertRows
from storage.models import Attempt, AttemptState, Result, Turn, utcnow

log = logging.getLogger(__name__)


class CallRecorder:
    def __init__(self, db: Database, claim: Claim, *, clock: Callable = utcnow, outbox: bool = False,
                 spool: EscalationSpool | None = None) -> None:
        self.db = db
        self.claim = claim
        self.attempt_id = claim.attempt_id
        self.clock = clock
        self.outbox = outbox  # queue a webhook delivery when the person reaches a final state
        self.spool = spool  # where an escalation the database refused waits (None: only the final commit retries)
        self.seq = 0
        self.dialog_version: str | None = None
        self._pending: list[tuple[Future, Any]] = []
        self._unstored: list[dict[str, Any]] = []
        self._slots: dict[str, Any] = {}  # slot -> value stored (or queued) for this attempt
        self._slots_stored: dict[str, Any] = {}  # slot -> value whose write has committed
        self._in_call = False
        self._write_failed = False  # a write of this call was refused by the storage
        self._prompts: list[tuple[int, str]] = []  # bot prompt turns (seq, text) not yet heard played
        self.suppression_days = 30.0  # [campaigns] suppression_days: a wrong number spares other campaigns

    def _played(self, note: PromptPlayed) -> None:
        """The line played a prompt: its turn gets the line time and, for evidence steps, the audio."""
        seq = next((q for q, text in self._prompts if text == note.text), None)
        if seq is None:
            return
        self._prompts.remove((seq, note.text))
        played = {"played": {"from": note.started_at, "to": note.ended_at, "complete": note.complete,
                             "sha256": note.sha256}}
        stmt = (update(Turn).where(Turn.attempt_id == self.attempt_id, Turn.seq == seq)
                .values(line_at=note.started_at, audio_path=note.audio, parse=played))
        self._keep(self.db.submit(lambda s: s.execute(stmt)), {"seq": seq, "played": True})

    # ------------------------------------------------------------ as it happens
    def observe(self, note: Note) -> None:
        """Store one note of the call's session without blocking the caller (the audio loop)."""
        if isinstance(note, DialogTurn):
            self.on_turn(note)
        elif isinstance(note, SlotFilled):
            self._put_slot(note.slot, note.value)
        elif isinstance(note, PromptPlayed):
            self._played(note)
        elif isinstance(note, Escalate):
            self._put_escalation(note)
        elif isinstance(note, Answered):
            self._keep(self.db.submit(lambda s: _store_dialog(s, self.attempt_id, note.sip_dialog)), "dialog")

    def _put_escalation(self, esc: Escalate) -> None:
        row = self._escalation_row(str(esc.reason), esc.step, esc.detail, self.clock())
        fut = self.db.submit(lambda s: put_escalation(s, row))
        self._keep(fut, "escalation")
        spool = self._spool()
        if spool is not None:
            fut.add_done_callback(lambda f: f.exception() is not None and spool.keep(row))

    def _spool(self) -> EscalationSpool | None:
        return self.spool if self.spool is not None else spools.current()  # an empty spool is falsy

    # ------------------------------------------------------------ the call's storage guard
    def storage_failing(self) -> bool:
        """True while the worker's storage alarm is raised or a write of this call was refused."""
        return self._write_failed or not health.storage_ok()

    async def keep_callback(self, reason: str, step: str | None, detail: str) -> bool:
        """The attempt's callback case, for a call the storage failure cuts short. True when it
        is durable: committed, or spooled to a file (fsynced) and replayed when the database takes
        writes again. False: kept in memory only (retried, but a restart would lose it)."""
        row = self._escalation_row(reason, step, detail, self.clock())
        try:
            await asyncio.wrap_future(self.db.submit(lambda s: put_escalation(s, row)))
            return True
        except Exception as exc:
            self._refused(exc)
            spool = self._spool()
            if spool is None:
                log.error("attempt %s: callback case not stored and no spool to keep it", self.attempt_id)
                return False
            return spool.keep(row)

    def _refused(self, exc: BaseException | None) -> None:
        """A write failed: storage refusing writes (not a lock timeout or deadlock) raises the alarm."""
        if isinstance(exc, OperationalError) and "lock" not in str(exc):
            self._write_failed = True
            health.STORAGE.failed(exc)

    def _watch(self, fut: Future) -> Future:
        fut.add_done_callback(lambda f: None if f.cancelled() else self._refused(f.exception()))
        return fut

    def _escalation_row(self, reason: str, step: str | None, detail: str, at: datetime) -> dict[str, Any]:
        return {"attempt_id": self.attempt_id, "person_id": self.claim.person_id,
                "campaign_id": self.claim.campaign_id, "reason": reason[:30], "step": step,
                "detail": detail, "priority": self.claim.priority, "created_at": at}

    def on_turn(self, turn: DialogTurn) -> None:
        """Record one transcript turn."""
        self.seq += 1
        if turn.kind == "prompt":
            self._prompts.append((self.seq, turn.text))
        row = _turn_row(self.attempt_id, self.seq, turn, self.clock())
        if not self._in_call:
            self._in_call = True
            self._watch(self.db.submit(lambda s: _mark_in_call(s, self.attempt_id)))
        self._keep(self.db.submit(InsertRows(Turn, [row])), row)

    def _put_slot(self, slot: str, value: Any) -> None:
        if slot in self._slots and self._slots[slot] == value:
            return
        self._slots[slot] = value
        row = self._result_row(slot, value, self.clock())
        self._keep(self.db.submit(lambda s: _put_result(s, row)), ("slot", slot, value))

    def _keep(self, fut: Future, what: Any) -> None:
        self._pending = [(f, w) for f, w in self._pending if not f.done() or f.exception() is not None
                         or _is_slot(w)]
        self._pending.append((self._watch(fut), what))

    async def flush(self) -> None:
        """Wait for the writes handed over so far; what could not be stored is kept for `finish`."""
        pending, self._pending = self._pending, []
        for fut, what in pending:
            try:
                await asyncio.wrap_future(fut)
            except Exception as exc:  # a lost write must not lose the rest of the call
                log.error("attempt %s: %s not stored yet (%s)", self.attempt_id, _what(what), type(exc).__name__)
                if isinstance(what, dict) and "played" not in what:  # a lost play time is not a lost turn
                    self._unstored.append(what)
                continue
            if _is_slot(what):
                self._slots_stored[what[1]] = what[2]

    # ------------------------------------------------------------ the end
    async def finish(self, result: CallResult, policy: RetryPolicy, *, outcome: str | None = None,
                     now: datetime | None = None) -> str:
        """Store the attempt's final state, its slot values and escalation, and settle the person,
        in one commit. `outcome="interrupted"` marks a call cut short by the worker (state
        interrupted). Returns the outcome stored."""
        outcome = outcome or outcome_of(result)
        now = now or self.clock()
        await self.flush()

        def unit(s: Session) -> None:
            self.write_final(s, result, outcome, now)
            if result.record is not None:  # contacts named on a tracing call: the follow-up campaign
                followups.add_contacts(s, source_campaign_id=self.claim.campaign_id, source_person_id=self.claim.person_id,
                                       source_attempt_id=self.attempt_id, contacts=result.record.slots.get("contacts"),
                                       now=now)
            settle(s, self.claim, policy, result, outcome, now, self.outbox)
            suppression.after_call(s, phone=self.claim.phone, outcome=outcome, campaign_id=self.claim.campaign_id,
                                   attempt_id=self.attempt_id, now=now, days=self.suppression_days)

        await self.db.arun(unit)
        return outcome

    def write_final(self, s: Session, result: CallResult, outcome: str, now: datetime) -> None:
        rec = result.record
        values: dict[str, Any] = {
            "outcome": outcome, "ended_at": now, "network_outcome": str(result.network),
            "sip_status": result.sip_status, "retry_after": result.retry_after, "audio_dir": result.audio_dir,
            "detail": (result.detail or "")[:500], "sip_dialog": null(),  # SQL NULL, not JSON null
        }
        values["state"] = AttemptState.INTERRUPTED if outcome == "interrupted" else AttemptState.ENDED
        turns = list(self._unstored)
        if rec is not None:
            values["dialog_name"], values["dialog_version"] = rec.dialog, rec.dialog_version
            turns += [_turn_row(self.attempt_id, i, t, now)
                      for i, t in enumerate(rec.transcript[self.seq:], start=self.seq + 1)]
            for slot, value in rec.slots.items():
                if value is None or (slot in self._slots_stored and self._slots_stored[slot] == value):
                    continue
                row = self._result_row(slot, value, now, rec.dialog_version)
                if slot in self._slots_stored or slot in self._slots:
                    _put_result(s, row)  # written (or tried) during the call with another value
                else:
                    s.execute(insert(Result), [row])
            if rec.escalation:
                values["escalation_reason"] = str(rec.escalation.get("reason", ""))[:30]
                put_escalation(s, self._escalation_row(values["escalation_reason"], rec.escalation.get("step"),
                                                       str(rec.escalation.get("detail", "")), now))
            s.execute(update(Result).where(Result.attempt_id == self.attempt_id, Result.dialog_version.is_(None))
                      .values(dialog_version=rec.dialog_version))
        if turns:
            s.execute(insert(Turn), turns)
        done = s.execute(update(Attempt).where(Attempt.id == self.attempt_id).values(**values))
        if done.rowcount != 1:
            raise LookupError(f"attempt {self.attempt_id} vanished")

    def _result_row(self, slot: str, value: Any, at: datetime, version: str | None = None) -> dict[str, Any]:
        return {"attempt_id": self.attempt_id, "person_id": self.claim.person_id,
                "campaign_id": self.claim.campaign_id, "slot": slot, "value": value,
                "dialog_version": version or self.dialog_version, "source": "bot", "created_at": at}


def outcome_of(result: CallResult) -> str:
    """The attempt's outcome: the conversation's when answered, else the network's."""
    if result.network == NetworkOutcome.ANSWERED:
        if result.record is not None and result.record.outcome:
            return str(result.record.outcome)
        return "failed"
    return str(result.network)


def settle(s: Session, claim: Claim, policy: RetryPolicy, result: CallResult, outcome: str, now: datetime,
           outbox: bool) -> None:
    """In the attempt's final commit: the person's next state (done, or due again after the
    policy's delay) and, when results are pushed, the delivery of a final result."""
    decision = policy.decide(outcome, claim.attempt_number, now, result.retry_after)
    ops.settle_person(s, claim.person_id, outcome, decision, now)
    if outbox and decision.final_state:
        webhook.enqueue(s, claim.campaign_id, claim.attempt_id,
                        delivery_payload(claim, result, outcome, decision.final_state, now), now)


def delivery_payload(claim: Claim, result: CallResult, outcome: str, state: str, now: datetime) -> dict[str, Any]:
    """What the health department receives for one person: who, outcome, slots, escalation, transcript."""
    rec = result.record
    return {
        "attempt_id": claim.attempt_id, "campaign_id": claim.campaign_id, "person_id": claim.person_id,
        "person": {**claim.person, "phone": claim.phone}, "outcome": outcome, "state": state,
        "slots": {**claim.prefilled, **{k: v for k, v in (rec.slots if rec else {}).items() if v is not None}},
        "escalation": rec.escalation if rec else None,
        "dialog": rec.dialog if rec else None, "dialog_version": rec.dialog_version if rec else None,
        "transcript": [t.to_json() for t in rec.transcript] if rec else [],
        "sip_status": result.sip_status, "at": now.isoformat(),
    }


def _is_slot(what: Any) -> bool:
    return isinstance(what, tuple)


def _what(what: Any) -> str:
    if isinstance(what, dict):
        return f"turn {what['seq']}"
    return "a slot value" if _is_slot(what) else str(what)


def _store_dialog(s: Session, attempt_id: int, dialog: dict[str, Any]) -> None:
    s.execute(update(Attempt).where(Attempt.id == attempt_id).values(sip_dialog=dialog))


def _put_result(s: Session, row: dict[str, Any]) -> None:
    """The attempt's value for a slot: updated if the caller changed the answer, else inserted."""
    done = s.execute(update(Result).where(Result.attempt_id == row["attempt_id"], Result.slot == row["slot"])
                     .values(value=row["value"], created_at=row["created_at"]))
    if done.rowcount == 0:
        s.execute(insert(Result), [row])


def _turn_row(attempt_id: int, seq: int, turn: DialogTurn, at: Any) -> dict[str, Any]:
    return {"attempt_id": attempt_id, "seq": seq, "speaker": str(turn.speaker), "text": turn.text or "",
            "step": turn.step, "kind": turn.kind, "parse": turn.parse, "confidence": turn.confidence, "at": at,
            "audio_path": getattr(turn, "audio", None), "line_at": getattr(turn, "at", None)}


def _mark_in_call(s: Session, attempt_id: int) -> None:
    s.execute(update(Attempt).where(Attempt.id == attempt_id,
                                    Attempt.state.in_((AttemptState.CLAIMED, AttemptState.DIALLING)))
              .values(state=AttemptState.IN_CALL))
