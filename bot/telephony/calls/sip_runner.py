"""The SIP CallRunner for the dialer: dial, converse, map every SIP ending to a
NetworkOutcome, and give back the concurrency slot on every path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.calls import Answered, CallRequest, CallResult, NetworkOutcome
from bot.dialog.events import CallRecord, Escalate, Note
from bot.privacy import mask_phone
from bot.telephony.calls.conversation import Conversation, Converse, as_conversation
from bot.telephony.calls.keypad_conversation import keypad_conversation
from bot.telephony.calls.storage_fault import held, is_fault, watch_storage
from bot.telephony.detection.answering_machine import MachineDetector
from bot.telephony.sip.call import SipCall, bye_from_state
from bot.telephony.sip.endpoint import SipEndpoint

log = logging.getLogger(__name__)

STATUS_OUTCOME = {
    486: NetworkOutcome.BUSY, 600: NetworkOutcome.BUSY,
    480: NetworkOutcome.NO_ANSWER, 408: NetworkOutcome.NO_ANSWER, 487: NetworkOutcome.NO_ANSWER,
    404: NetworkOutcome.BAD_NUMBER, 484: NetworkOutcome.BAD_NUMBER, 604: NetworkOutcome.BAD_NUMBER,
    410: NetworkOutcome.BAD_NUMBER,
    603: NetworkOutcome.DECLINED,
    503: NetworkOutcome.CONGESTION, 502: NetworkOutcome.CONGESTION, 500: NetworkOutcome.CONGESTION,
}


def outcome_for(status: int | None) -> NetworkOutcome:
    if status is None:
        return NetworkOutcome.FAILED
    if 200 <= status < 300:
        return NetworkOutcome.ANSWERED
    return STATUS_OUTCOME.get(status, NetworkOutcome.FAILED)


async def converse_and_escalate(converse: Converse, call: SipCall, request: CallRequest,
                                operator_uri: str) -> CallRecord:
    """Run the conversation, then perform the call actions it asked for: an `Escalate` from the
    dialog (seen by an observer on the call's session as it happened) transfers the caller to
    the operator when one is configured. While it runs, the call's storage guard is watched:
    storage failing ends the call with the truth and a callback case (bot.telephony.calls.storage_fault)."""
    asked: list[Escalate] = []

    def watch(note: Note) -> None:
        if isinstance(note, Escalate):
            asked.append(note)

    watched = held(request, observers=(*request.observers, watch))
    guard = request.guard
    watcher = asyncio.create_task(watch_storage(guard, watched)) if guard is not None else None
    try:
        record = await converse(call, watched)
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    if asked and is_fault(asked[-1]):  # the caller was told; the case waits in the queue (or the spool)
        return record
    if asked and not await escalate_to_operator(call, asked[-1], operator_uri) and operator_uri:
        await tell_callback(call, request)  # the line is busy or down: say who will call back, not silence
    return record


async def tell_callback(call: SipCall, request: CallRequest) -> None:
    """After a failed transfer the resident hears the truth: the script's `human_callback`
    words (staff will call back within {callback_within}), then the call ends."""
    from audio.synthesis import speak
    from bot.dialog.model import render
    from bot.pipeline.run import call_variables

    handler = request.script.handlers.get("human_callback")
    if call.ended.is_set() or handler is None or not handler.say:
        return
    try:
        call.media.play(await speak(render(handler.say[0], call_variables(request)), request.script.locale))
        await call.media.drained()
    except Exception:  # the caller may hang up meanwhile; the case is in the queue either way
        log.exception("could not tell the caller about the call back")


async def escalate_to_operator(call: SipCall, escalation: Escalate | None, operator_uri: str) -> bool:
    """Perform the dialog's Escalate: with an operator configured the call is blind-transferred
    (the notice was already spoken by the dialog). False when there is nothing to do or the
    transfer failed: the case then waits in the queue, its transcript already stored."""
    if escalation is None or not operator_uri or call.ended.is_set():
        return False
    log.info("escalated (%s at %s): transferring to the operator", escalation.reason, escalation.step)
    ok = await call.transfer(operator_uri)
    if not ok:
        log.warning("transfer to the operator failed: the case goes to the queue")
    return ok


def tell(request: CallRequest, note: Any) -> None:
    request.tell(note)


class SipCallRunner:
    """`CallRunner` over the worker's SipEndpoint. `converse` defaults to the keypad
    conversation (no recognizer); pass `speech_conversation(resources)` in production."""

    def __init__(self, endpoint: SipEndpoint, converse: Conversation | Converse | None = None, *,
                 transcribe: Callable[[bytes, str], str] | None = None) -> None:
        self.endpoint = endpoint
        self.converse = as_conversation(converse or keypad_conversation)
        # what the opening said (8 kHz PCM, locale) -> text, for carrier announcements and AMD's
        # words; default: the conversation's own (`speech_conversation` offers Whisper when installed)
        self.transcribe = transcribe or self.converse.transcribe
        self.operator_uri = endpoint.settings.operator_uri

    def outbound_lines(self) -> int:
        """Lines the dialer may fill now: capacity less the inbound calls (their share, inbound_share)."""
        return self.endpoint.settings.capacity - len(self.endpoint.sources)

    async def run(self, request: CallRequest) -> CallResult:
        try:
            await self.converse.prepare(request)
        except Exception:  # the call still goes out: prompts are rendered on demand
            log.exception("prompts for attempt %s not rendered ahead", request.attempt_id)
        try:
            dialed = await self.endpoint.dial(request.phone,  # a bare number goes @ the trunk
                                              transcribe=self.transcribe, locale=request.script.locale)
        except OSError as exc:
            log.error("dial %s failed: %s", mask_phone(request.phone), exc)
            return CallResult(NetworkOutcome.FAILED, detail=str(exc))
        if dialed.call is None:  # a carrier announcement in early media: its outcome, as after answer
            net = NetworkOutcome(dialed.carrier) if dialed.carrier else outcome_for(dialed.status)
            log.info("attempt %s to %s: %s (%s)", request.attempt_id, mask_phone(request.phone), net, dialed.status)
            return CallResult(net, sip_status=dialed.status, retry_after=dialed.retry_after, detail=dialed.reason,
                              placed=not dialed.local)
        call = dialed.call
        tell(request, Answered(call.sip_dialog))  # stored: a BYE if this worker dies
        holder: dict[str, CallRecord] = {}
        amd = MachineDetector.from_settings(self.endpoint.settings, self.transcribe)
        opening: list[str] = []

        async def conversation() -> None:
            if amd is not None:
                opening.append(await amd.classify(call, request.script.locale))
                if opening[0] == "machine":
                    await amd.leave_message(call, request.script.locale)
                    return
                if opening[0] != "human":  # a carrier announcement: nobody to talk to
                    call.hangup()
                    return
            holder["record"] = await converse_and_escalate(self.converse, call, request, self.operator_uri)

        await self.endpoint.supervise(call, conversation())
        if opening and opening[0] == "machine":
            return CallResult(NetworkOutcome.MACHINE, sip_status=200, detail="answering machine")
        if opening and opening[0] != "human":
            log.info("attempt %s: carrier announcement (%s)", request.attempt_id, opening[0])
            return CallResult(NetworkOutcome(opening[0]), sip_status=200, detail="carrier announcement")
        record = holder.get("record")
        detail = call.end_reason
        if call.transferred:
            detail = "transferred"
        return CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200, detail=detail,
                          audio_dir=call.audio_dir)

    async def end_orphans(self, dialogs: list[dict[str, Any]]) -> None:
        """BYE for each answered call of a worker that died (its stored dialog state), at once."""
        states = [d for d in dialogs if d.get("call_id") and d.get("remote_addr")]
        if states:
            log.warning("ending %d call(s) left by a worker that died (BYE from their stored dialog)", len(states))
            await asyncio.gather(*(bye_from_state(self.endpoint.uac, d) for d in states), return_exceptions=True)
