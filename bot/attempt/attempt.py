"""Attempt: one call to one person, stored as it happens, then its end as one unit of work.

    attempt = Attempt(db, claim, script, spool=spool)    # claim: bot.campaigns.dialing.claims.Claim (committed)
    request = attempt.request(variables, parser=..., recordings=...)   # observed by the attempt, guarded by it
    result = await runner.run(request)
    await attempt.settle(result, policy)   # attempt + results + escalation + the person settled, ONE commit

`record(note)` (the request's observer) is called by the call's dialog session (bot.dialog.session) on
the event loop and never blocks it: each note becomes a write queued to the database's group-commit
writer thread (in order; a turn's `seq` is fixed when it is received):
- a `Turn` -> a transcript row (the first one moves the attempt to `in_call`);
- a `SlotFilled` -> the attempt's `Result` row for that slot (inserted, or updated if the caller
  changed the answer), so every answer heard is stored when heard: a worker killed mid-call
  leaves it, and the next call (prefilled from results) does not ask it again;
- an `Escalate` -> `escalate(...)`: the attempt's `Escalation` row (the operator's queue), when the
  dialog promises the resident a call back, not at the end of the call; a write that fails goes to
  the spool (bot.campaigns.outage.escalation_spool), replayed when the database takes writes again;
- an `Answered` (bot.calls, from the SIP runner) -> the transport's dialog on the attempt
  (`Attempt.sip_dialog`), which a restarted worker sends the BYE from if this worker dies.
`settle` waits for those writes, adds any turns and slot values not stored yet, then writes the
final state of the attempt and settles the person (retry policy, suppression, follow-ups, webhook
outbox) in one commit. `resolve` (bot.attempt.resolution) is an operator's end of the case.

A write the database refuses (disk full, database down or read-only) raises the worker's storage
alarm (the spool's, bot.campaigns.outage.storage_alarm) at once. The attempt is also the call's
storage guard (`CallRequest.guard`, bot.telephony.calls.storage_fault): `storage_failing()` and
`keep_callback(...)`, the callback case written or spooled to disk before the resident is promised it.
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

from bot.attempt.claiming import claim_case, release_case
from bot.attempt.payload import result_payload
from bot.attempt.resolution import close_test_case, resolve
from bot.attempt.rows import is_slot, mark_in_call, put_result, store_dialog, turn_row, what_of
from bot.calls import Answered, CallRequest, CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.outage.escalation_spool import EscalationSpool, put_escalation
from bot.campaigns.outage.storage_alarm import StorageHealth
from bot.campaigns.people import followups, suppression
from bot.campaigns.results import webhook
from bot.dialog.events import Escalate, Note, PromptPlayed, SlotFilled
from bot.dialog.events import Turn as DialogTurn
from storage.db import Database, InsertRows
from storage.models import Attempt as AttemptRow
from storage.models import AttemptState, Result, Turn, utcnow

log = logging.getLogger(__name__)


class Attempt:
    resolve = staticmethod(resolve)  # an operator's end of the case (no call): bot.attempt.resolution
    claim_case = staticmethod(claim_case)  # an operator's hold on the case: bot.attempt.claiming
    release_case = staticmethod(release_case)
    close_test_case = staticmethod(close_test_case)  # a console test call's case: never queued

    def __init__(self, db: Database, claim: Claim, script: Any = None, *, clock: Callable = utcnow,
                 outbox: bool = False, spool: EscalationSpool | None = None,
                 suppression_days: float = 30.0) -> None:
        self.db = db
        self.claim = claim
        self.attempt_id = claim.attempt_id
        self.person = claim.person  # the person as the call knows them (variables of the dialog)
        self.script = script  # bot.dialog.script.Script: its steps, slots and sentences
        self.clock = clock
        self.outbox = outbox  # queue a webhook delivery when the person reaches a final state
        self.spool = spool  # where an escalation the database refused waits (None: only the final commit retries)
        # the worker's storage alarm (one per process, carried by its spool)
        self.alarm = spool.alarm if spool is not None else StorageHealth()
        self.suppression_days = suppression_days  # [campaigns] suppression_days: a wrong number spares other campaigns
        self.sip_dialog: dict[str, Any] | None = None  # the transport's dialog once answered (a BYE after a crash)
        self.audio_dir: str | None = None  # the call's clip directory, once the call ended
        self.seq = 0
        self.dialog_version: str | None = getattr(script, "version", None)
        self._pending: list[tuple[Future, Any]] = []
        self._unstored: list[dict[str, Any]] = []
        self._slots: dict[str, Any] = {}  # slot -> value stored (or queued) for this attempt
        self._slots_stored: dict[str, Any] = {}  # slot -> value whose write has committed
        self._in_call = False
        self._write_failed = False  # a write of this call was refused by the storage
        self._prompts: list[tuple[int, str]] = []  # bot prompt turns (seq, text) not yet heard played

    def request(self, variables: dict[str, str], **more: Any) -> CallRequest:
        """The call as a runner places it: this attempt's person, script and prefilled answers,
        observed (`record`) and guarded by this attempt."""
        return CallRequest(attempt_id=self.attempt_id, phone=self.claim.phone, person=self.person,
                           script=self.script, prefilled_slots=self.claim.prefilled, observers=(self.record,),
                           variables=variables, guard=self, **{"record_call": self.claim.record_call, **more})

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
    def record(self, note: Note) -> None:
        """Store one note of the call's session without blocking the caller (the audio loop)."""
        if isinstance(note, DialogTurn):
            self.on_turn(note)
        elif isinstance(note, SlotFilled):
            self._put_slot(note.slot, note.value)
        elif isinstance(note, PromptPlayed):
            self._played(note)
        elif isinstance(note, Escalate):
            self.escalate(note)
        elif isinstance(note, Answered):
            self.sip_dialog = note.sip_dialog
            self._keep(self.db.submit(lambda s: store_dialog(s, self.attempt_id, note.sip_dialog)), "dialog")

    observe = record  # the request's observer

    def escalate(self, esc: Escalate) -> None:
        """The operator's case, when the dialog asks for it (not at the end of the call)."""
        row = self._escalation_row(str(esc.reason), esc.step, esc.detail, self.clock())
        fut = self.db.submit(lambda s: put_escalation(s, row))
        self._keep(fut, "escalation")
        spool = self.spool
        if spool is not None:
            fut.add_done_callback(lambda f: f.exception() is not None and spool.keep(row))

    # ------------------------------------------------------------ the call's storage guard
    def storage_failing(self) -> bool:
        """True while the worker's storage alarm is raised or a write of this call was refused."""
        return self._write_failed or not self.alarm.ok

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
            spool = self.spool
            if spool is None:
                log.error("attempt %s: callback case not stored and no spool to keep it", self.attempt_id)
                return False
            return spool.keep(row)

    def _refused(self, exc: BaseException | None) -> None:
        """A write failed: storage refusing writes (not a lock timeout or deadlock) raises the alarm."""
        if isinstance(exc, OperationalError) and "lock" not in str(exc):
            self._write_failed = True
            self.alarm.failed(exc)

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
        row = turn_row(self.attempt_id, self.seq, turn, self.clock())
        if not self._in_call:
            self._in_call = True
            self._watch(self.db.submit(lambda s: mark_in_call(s, self.attempt_id)))
        self._keep(self.db.submit(InsertRows(Turn, [row])), row)

    def _put_slot(self, slot: str, value: Any) -> None:
        if slot in self._slots and self._slots[slot] == value:
            return
        self._slots[slot] = value
        row = self._result_row(slot, value, self.clock())
        self._keep(self.db.submit(lambda s: put_result(s, row)), ("slot", slot, value))

    def _keep(self, fut: Future, what: Any) -> None:
        self._pending = [(f, w) for f, w in self._pending if not f.done() or f.exception() is not None
                         or is_slot(w)]
        self._pending.append((self._watch(fut), what))

    async def flush(self) -> None:
        """Wait for the writes handed over so far; what could not be stored is kept for `finish`."""
        pending, self._pending = self._pending, []
        for fut, what in pending:
            try:
                await asyncio.wrap_future(fut)
            except Exception as exc:  # a lost write must not lose the rest of the call
                log.error("attempt %s: %s not stored yet (%s)", self.attempt_id, what_of(what), type(exc).__name__)
                if isinstance(what, dict) and "played" not in what:  # a lost play time is not a lost turn
                    self._unstored.append(what)
                continue
            if is_slot(what):
                self._slots_stored[what[1]] = what[2]

    # ------------------------------------------------------------ the end
    async def settle(self, result: CallResult, policy: RetryPolicy, *, outcome: str | None = None,
                     now: datetime | None = None) -> str:
        """Store the attempt's final state, its slot values and escalation, and settle the person,
        in one commit. `outcome="interrupted"` marks a call cut short by the worker (state
        interrupted). Returns the outcome stored."""
        outcome = outcome or outcome_of(result)
        now = now or self.clock()
        await self.flush()
        self.audio_dir = result.audio_dir

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
            turns += [turn_row(self.attempt_id, i, t, now)
                      for i, t in enumerate(rec.transcript[self.seq:], start=self.seq + 1)]
            for slot, value in rec.slots.items():
                if value is None or (slot in self._slots_stored and self._slots_stored[slot] == value):
                    continue
                row = self._result_row(slot, value, now, rec.dialog_version)
                if slot in self._slots_stored or slot in self._slots:
                    put_result(s, row)  # written (or tried) during the call with another value
                else:
                    s.execute(insert(Result), [row])
            if rec.escalation is not None:
                values["escalation_reason"] = str(rec.escalation.reason)[:30]
                put_escalation(s, self._escalation_row(values["escalation_reason"], rec.escalation.step,
                                                       rec.escalation.detail, now))
            s.execute(update(Result).where(Result.attempt_id == self.attempt_id, Result.dialog_version.is_(None))
                      .values(dialog_version=rec.dialog_version))
        if turns:
            s.execute(insert(Turn), turns)
        done = s.execute(update(AttemptRow).where(AttemptRow.id == self.attempt_id).values(**values))
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
                        result_payload(s, claim.attempt_id, outcome=outcome, state=decision.final_state, at=now), now)
