"""A live call when the worker's storage fails (disk full, database down or read-only).

The answers of a call are not spooled (only escalations are: bot.campaigns.outage.escalation_spool), so a call
must not go on asking questions whose answers cannot be stored. While a call runs,
`watch_storage` polls the call's storage guard; when it reports a failure, the callback case
is written first (committed, or spooled to a file and replayed when the database takes writes
again), then the dialog is ended at its next event (`CallSession.end_early`): the prompt
playing is finished, the caller's next answer (or no input) is followed by the truth, in the
script's language, and the call ends escalated. "Staff will call you back" is said only when
the callback case is durable; otherwise the caller hears the apology without the promise.

The guard is the request's (`CallRequest.guard`: the call's bot.attempt.Attempt) offering
`storage_failing()` and `async keep_callback(reason, step, detail) -> bool`; a call without one
(tests, `veribot call`) is not watched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from bot.calls import CallRequest, StorageGuard
from bot.dialog.catalogue import Catalogue, catalogue_for
from bot.dialog.events import Escalate, Say
from bot.dialog.session import CallSession, Observer

log = logging.getLogger(__name__)

REASON = "storage_fault"  # Escalation.reason of a call cut short by the storage failure
POLL_SECONDS = 0.2

def words(locale: str, durable: bool, catalogue: Catalogue | None = None) -> str:
    """The truth told, from the locale's system catalogue (dialogs/system.<locale>.yaml):
    storage_fault.promised when the callback case is durable, else storage_fault.unpromised."""
    cat = catalogue or catalogue_for(locale)
    return cat.text("storage_fault.promised" if durable else "storage_fault.unpromised", {})


@dataclasses.dataclass(frozen=True)
class HeldRequest(CallRequest):
    """The request as a driver runs it, remembering the session it made (to end it early)."""

    sessions: list[CallSession] = dataclasses.field(default_factory=list, compare=False, repr=False)

    def session(self, *more: Observer) -> CallSession:
        made = super().session(*more)
        self.sessions.append(made)
        return made


def held(request: CallRequest, **changes: Any) -> HeldRequest:
    fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(CallRequest)}
    return HeldRequest(**{**fields, **changes})


async def watch_storage(guard: StorageGuard, request: HeldRequest, poll: float = POLL_SECONDS) -> bool:
    """Until cancelled (the call ended): on a storage failure, keep the callback case and end the
    dialog with the truth. Returns True once it has done so."""
    while True:  # polled: the alarm is raised from the database's writer thread, not the loop
        # the dialog must have started (answered): before that there is no step to keep the case at
        if guard.storage_failing() and request.sessions and request.sessions[-1].started:
            break
        await asyncio.sleep(poll)
    session = request.sessions[-1]
    if session.finished:
        return False
    listen = session.current_listen
    step = listen.step if listen is not None else (session.record.last_step or "")
    detail = "storage failed during the call: answers not stored"
    durable = await guard.keep_callback(REASON, step, detail)
    if session.finished:  # the dialog ended meanwhile: its own goodbye was said
        return False
    log.warning("attempt %s: storage failed during the call: the caller is told (callback case %s)",
                request.attempt_id, "kept" if durable else "NOT durable, no call back promised")
    text = words(request.script.locale, durable, request.script.system)
    session.end_early(Say(text, key=REASON, barge_in=False), Escalate(REASON, step, detail))  # type: ignore[arg-type]
    return True


def is_fault(escalation: Escalate | None) -> bool:
    return escalation is not None and str(escalation.reason) == REASON
