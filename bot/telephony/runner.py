"""The SIP CallRunner for the dialer: dial, converse, map every SIP ending to a
NetworkOutcome, and give back the concurrency slot on every path."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.calls import CallRequest, CallResult, NetworkOutcome
from bot.dialog.events import CallRecord
from bot.telephony.amd import MachineDetector
from bot.telephony.call import SipCall
from bot.telephony.keypad import keypad_conversation
from bot.telephony.settings import mask_phone
from bot.telephony.sip import SipEndpoint

log = logging.getLogger(__name__)

Converse = Callable[[SipCall, CallRequest], Awaitable[CallRecord]]

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


def speech_conversation(resources: Any) -> Converse:
    """Converse through the speech pipeline (`bot.pipeline.call.run_call`) over RTP."""

    async def converse(call: SipCall, request: CallRequest) -> CallRecord:
        from bot.pipeline.call import run_call
        from bot.telephony.transport import RtpCallTransport

        return await run_call(RtpCallTransport(call), request, resources)

    return converse


class SipCallRunner:
    """`CallRunner` over the worker's SipEndpoint. `converse` defaults to the keypad
    conversation (no recognizer); pass `speech_conversation(resources)` in production."""

    def __init__(self, endpoint: SipEndpoint, converse: Converse | None = None) -> None:
        self.endpoint = endpoint
        s = endpoint.settings
        self.converse = converse or (lambda call, req: keypad_conversation(call, req, s.operator_uri))

    async def run(self, request: CallRequest) -> CallResult:
        try:
            dialed = await self.endpoint.dial(request.phone)  # a bare number goes @ the trunk
        except OSError as exc:
            log.error("dial %s failed: %s", mask_phone(request.phone), exc)
            return CallResult(NetworkOutcome.FAILED, detail=str(exc))
        if dialed.call is None:
            net = outcome_for(dialed.status)
            log.info("attempt %s to %s: %s (%s)", request.attempt_id, mask_phone(request.phone), net, dialed.status)
            return CallResult(net, sip_status=dialed.status, retry_after=dialed.retry_after, detail=dialed.reason)
        call = dialed.call
        holder: dict[str, CallRecord] = {}
        amd = MachineDetector.from_settings(self.endpoint.settings)

        async def conversation() -> None:
            if amd is not None and await amd.is_machine(call):
                holder["machine"] = CallRecord(request.script.name, request.script.version, request.script.locale)
                await amd.leave_message(call, request.script.locale)
                return
            holder["record"] = await self.converse(call, request)

        await self.endpoint.supervise(call, conversation())
        if "machine" in holder:
            return CallResult(NetworkOutcome.MACHINE, sip_status=200, detail="answering machine")
        record = holder.get("record")
        detail = call.end_reason
        if call.extra.get("transferred"):
            detail = "transferred"
        return CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200, detail=detail)
