"""A live SIP call (either direction) as the rest of veribot sees it: its media stream,
how it ended, hang-up and blind transfer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.telephony.media.rtp_stream import MediaStream

log = logging.getLogger(__name__)


@dataclass
class SipCall:
    call_id: str
    direction: str  # "inbound" | "outbound"
    remote_number: str  # the other party's user part (mask before logging)
    media: MediaStream
    headers: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str = ""  # remote_bye | local_hangup | media_timeout | max_length | transferred
    # given by the endpoint that holds the leg: what a BYE after a crash needs (stored on the
    # attempt), how to hang up, how to send a REFER
    sip_dialog: dict[str, Any] = field(default_factory=dict)
    send_bye: Callable[[], None] | None = None
    send_refer: Callable[[str], None] | None = None
    # what happened on the call, for whoever ran it
    transferred: bool = False  # blind transfer to the operator answered
    transferred_to: str = ""  # the scripted softphone: where a REFER sent this call
    verified: bool = False  # inbound: the caller proved who they are
    unknown_caller: bool = False  # inbound: greeted with the self-identification only
    audio_dir: str | None = None  # where the answers' clips of this call are kept
    _transfer_result: asyncio.Future[int] | None = field(default=None, repr=False)

    def finish(self, reason: str) -> None:
        """Mark the call over (idempotent); media is closed by the endpoint."""
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()
            if reason == "remote_bye":
                self.media.stop_sending()  # no RTP after the far end's BYE
            else:
                self.media.clear()

    def hangup(self) -> None:
        if self.ended.is_set():
            return
        if self.send_bye is not None:
            try:
                self.send_bye()
            except (ValueError, OSError) as exc:
                log.debug("hang-up of %s: %s", self.call_id, exc)
        self.finish("local_hangup")

    async def transfer(self, target_uri: str, answer_within: float = 15.0) -> bool:
        """Blind transfer (REFER). True when the far end reports the target answered
        (final NOTIFY 2xx); our leg is then hung up."""
        if self.send_refer is None or self.ended.is_set():
            return False
        self._transfer_result = asyncio.get_running_loop().create_future()
        self.send_refer(target_uri)
        try:
            status = await asyncio.wait_for(asyncio.shield(self._transfer_result), answer_within)
        except TimeoutError:
            return False
        finally:
            self._transfer_result = None
        if 200 <= status < 300:
            if self.send_bye is not None and not self.ended.is_set():
                self.send_bye()
            self.transferred = True
            self.finish("transferred")
            return True
        return False

    def transfer_progress(self, status: int) -> None:
        fut = self._transfer_result
        if fut is not None and not fut.done() and status >= 200:
            fut.set_result(status)


@dataclass(frozen=True)
class DialOutcome:
    """What `SipEndpoint.dial` got: a live call, or the final status that ended the attempt."""

    call: SipCall | None
    status: int | None  # final SIP status (200 when answered; None when nothing came back)
    reason: str = ""
    retry_after: float | None = None
    local: bool = False  # refused by this worker (its lines full) before anything was sent
    carrier: str | None = None  # a carrier announcement heard in early media (powered_off, ...): CANCELled


def dialog_state(dialog: Any, remote_addr: tuple[str, int]) -> dict[str, Any]:
    """What a BYE for this dialog needs, as JSON (stored with the attempt when the call is
    answered): Call-ID, tags, URIs, remote target, route set, our CSeq and where to send it."""
    return {"call_id": dialog.call_id, "local_tag": dialog.local_tag, "remote_tag": dialog.remote_tag,
            "local_uri": dialog.local_uri, "remote_uri": dialog.remote_uri,
            "remote_target": dialog.remote_target, "route_set": list(dialog.route_set),
            "local_cseq": dialog.local_cseq, "remote_addr": [remote_addr[0], remote_addr[1]]}


def answered_dialog_state(inc: Any) -> dict[str, Any]:
    """`dialog_state` of a call we answered (UAS): our BYE goes to the caller's Contact with
    From = our To and its tag, To = their From and its tag, and the route set is the INVITE's
    Record-Route in order (RFC 3261 12.1.1; aiosipua reverses it, as a UAC would); sent to the
    signalling source (the trunk or Kamailio)."""
    state = dialog_state(inc.dialog, inc.source_addr)
    state["route_set"] = list(inc.invite.headers.get("record-route"))
    return state


CSEQ_MARGIN = 100  # in-dialog requests (REFER, re-INVITE) the dead worker may have sent after storing


async def bye_from_state(uac: Any, state: dict[str, Any], resend: tuple[float, ...] = (0.5, 1.0)) -> None:
    """End a dialog another (dead) process held: a BYE built from its stored state, sent again
    after each `resend` delay (UDP; the far end answers a repeat with 481, harmless)."""
    from aiosipua import Dialog, DialogState

    dialog = Dialog(call_id=state["call_id"], local_tag=state["local_tag"], remote_tag=state["remote_tag"],
                    local_uri=state["local_uri"], remote_uri=state["remote_uri"],
                    remote_target=state.get("remote_target", ""), route_set=list(state.get("route_set") or []),
                    local_cseq=int(state.get("local_cseq") or 0) + CSEQ_MARGIN, state=DialogState.CONFIRMED)
    addr = (state["remote_addr"][0], int(state["remote_addr"][1]))
    bye = uac.send_bye(dialog, addr)
    for delay in resend:
        await asyncio.sleep(delay)
        uac.transport.send(bye, addr)


def end_stray_answer(uac: Any, response: Any, addr: tuple[str, int]) -> bool:
    """A 2xx to an INVITE this process does not hold — placed by a predecessor that died before
    it could ACK it (or given up on here): ACK it and send a BYE (RFC 3261 13.2.2.4). The far
    end retransmits such a 2xx for 32 s, so a worker restarted on the same SIP address ends
    these legs within seconds too. True when it did."""
    from aiosipua import Dialog, DialogState
    from aiosipua.header_codec import parse_address, stringify_uri

    cseq = response.cseq
    if not 200 <= response.status_code < 300 or cseq is None or cseq.method.upper() != "INVITE":
        return False
    call_id = response.call_id or ""
    if not call_id or uac.get_call(call_id) is not None:
        return False
    ours, theirs = response.from_addr, response.to_addr
    if ours is None or theirs is None or not ours.tag or not theirs.tag:
        return False
    contact = response.get_header("contact")
    target = stringify_uri(parse_address(contact).uri) if contact else stringify_uri(theirs.uri)
    dialog = Dialog(call_id=call_id, local_tag=ours.tag, remote_tag=theirs.tag, local_uri=stringify_uri(ours.uri),
                    remote_uri=stringify_uri(theirs.uri), remote_target=target,
                    route_set=list(reversed(response.get_header_values("record-route"))),
                    local_cseq=cseq.seq - 1, state=DialogState.CONFIRMED)
    via = uac._local_addr()
    ack = dialog.create_request("ACK", via_host=via[0], via_port=via[1])  # CSeq = the INVITE's
    uac.transport.send(ack, addr)
    uac.send_bye(dialog, addr)
    log.warning("ended a call answered for a worker that is gone (Call-ID %s…)", call_id[:8])
    return True
