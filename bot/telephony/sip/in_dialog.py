"""Requests the SIP endpoint answers itself: admission of new calls (trusted sources, no
tagged INVITE without a dialog), OPTIONS health (503 when full), the media policy, and
requests inside a call: BYE, re-INVITE (refresh, hold,
moved media — only where the edge policy lets RTP go), REFER as transferee, NOTIFY
progress of our own transfer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiosipua import IncomingCall, SipRequest, SipResponse, notify_refer
from aiosipua.headers import parse_uri

from bot.telephony.sip import sdp
from bot.telephony.sip.call import SipCall
from bot.telephony.sip.edge_policy import mask_ip
from bot.telephony.sip.messages import FinalResponses, uri_target
from bot.telephony.sip.sdp import SdpError
from bot.telephony.sip.uas_rules import Refusal

if TYPE_CHECKING:
    from aiosipua import SipUAC, SipUAS

    from bot.telephony.settings import TelephonySettings
    from bot.telephony.sip.edge_policy import EdgePolicy, SourceCalls
    from bot.telephony.sip.guard import GuardedUdpTransport

log = logging.getLogger(__name__)
DROP = Refusal(0, "")  # answered by nobody


def _host(uri: str | None) -> str:
    try:
        return parse_uri(uri).host or "" if uri else ""
    except ValueError:
        return ""


def _branch(request: SipRequest) -> str | None:
    vias = request.via
    return vias[0].branch if vias else None

TransferHandler = Callable[[SipCall, str], Awaitable[int]]  # (our call, Refer-To) -> final status


class InDialogRequests:
    """Mixed into SipEndpoint (which provides these attributes)."""

    calls: dict[str, SipCall]
    settings: TelephonySettings
    uas: SipUAS
    on_refer: TransferHandler | None
    busy: int  # property on SipEndpoint
    local_addr: tuple[str, int]  # property on SipEndpoint
    _spawn: Callable[[Awaitable[None]], None]
    uac: SipUAC
    policy: EdgePolicy
    finals: FinalResponses
    sources: SourceCalls
    transport: GuardedUdpTransport

    def _admit(self, request: SipRequest, addr: tuple[str, int]) -> Refusal | None:
        """A new call only from a source allowed to call; a tagged INVITE only in a dialog."""
        if request.body and (request.headers.get_first("content-type") or "").lower().startswith("application/sdp"):
            try:
                sdp.parse(request.text)  # aiosipua parses it in its handler and raises on garbage
            except (SdpError, UnicodeError):
                return Refusal(400, "Bad Request", {"Warning": '399 veribot "unparsable SDP"'})
        cid = request.call_id or ""
        if self._from_peer(cid, addr[0]) is False:  # forged in-dialog request (a BYE from elsewhere ...)
            self._foreign("request", cid, addr)
            return DROP
        if request.method.upper() != "INVITE":
            return None
        tagged = "tag=" in (request.headers.get_first("to") or "")
        known = self.uas.get_call(cid)
        if known is not None and not tagged:  # aiosipua would start a second call
            if _branch(request) == _branch(known.invite):
                return DROP  # a retransmission: the answer is on its way (or being retransmitted)
            return Refusal(482, "Loop Detected")  # RFC 3261 8.2.2.2: same Call-ID, new transaction
        if known is not None or self.uac.get_call(cid) is not None:
            return None  # re-INVITE (aiosipua checks the tags)
        if tagged:
            return Refusal(481, "Call/Transaction Does Not Exist")  # RFC 3261 12.2.2
        if not self.policy.may_call(addr[0]):
            log.warning("inbound call from %s refused 403: not a trusted source ([telephony] trusted_sources)",
                        mask_ip(addr[0]))
            return Refusal(403, "Forbidden")
        return None

    def _peer_hosts(self, call_id: str) -> tuple[str, ...] | None:
        """Where the dialog's peer may send from: the address that sent the INVITE (inbound) or
        that we sent it to (outbound), and its remote target's host; None: no such dialog."""
        if not call_id:
            return None
        inc = self.uas.get_call(call_id)
        if inc is not None:
            return (inc.source_addr[0], _host(inc.dialog.remote_target))
        out = self.uac.get_call(call_id)
        if out is not None:
            return (out.remote_addr[0], _host(out.dialog.remote_target))
        return None

    def _from_peer(self, call_id: str, host: str) -> bool | None:
        """Whether a message of dialog `call_id` comes from its peer (or a trusted source: the
        trunk's other nodes); None when there is no such dialog."""
        peers = self._peer_hosts(call_id)
        if peers is None:
            return None
        return host in peers or self.policy.is_trusted(host)

    def _known_peer(self, host: str) -> bool:
        """A source we have reason to hear from: trusted (the trunk, Kamailio), the trunk's
        host, or an address we sent an INVITE to lately."""
        if self.policy.is_trusted(host):
            return True
        if self.settings.trunk and host == uri_target(self.settings.trunk)[0]:
            return True
        return host in self.finals.destinations()

    def _accepts_response(self, response: SipResponse, addr: tuple[str, int]) -> bool:
        """A response of a dialog only from its peer; one of no dialog (a 2xx a dead predecessor
        left: ACK + BYE) only from a peer we know — never reflected to an unseen address."""
        cid = response.call_id or ""
        ok = self._from_peer(cid, addr[0])
        if ok is None:
            ok = self._known_peer(addr[0])
        if not ok:
            self._foreign("response", cid, addr)
        return ok

    def _foreign(self, what: str, call_id: str, addr: tuple[str, int]) -> None:
        self.transport.stats.foreign += 1
        log.debug("SIP %s for Call-ID %s… from %s dropped: not the dialog's peer", what, call_id[:8],
                  mask_ip(addr[0]))

    def _options_refusal(self) -> Refusal | None:
        """Health check (Kamailio's OPTIONS ping): 503 while at capacity, or while inbound calls
        hold their share of the lines, sends new calls elsewhere."""
        if self.busy >= self.settings.capacity or len(self.sources) >= self.settings.inbound_lines:
            return Refusal(503, "Service Unavailable", {"Retry-After": str(self.settings.retry_after)})
        return None

    def media_allowed(self, host: str, signalling: str, call_id: str) -> bool:
        """RTP goes only to the signalling source or the trunk's media_networks (no reflection)."""
        if self.policy.media_allowed(host, signalling):
            return True
        log.warning("call %s refused 488: media address %s outside policy (signalling from %s)",
                    call_id[:8], mask_ip(host), mask_ip(signalling))
        return False

    def _on_reinvite(self, inc: IncomingCall) -> None:
        """Session refresh or hold from the far end (PBXs do this): answer with our stream,
        following a new peer address; without an answer the peer would drop the call."""
        call = self.calls.get(inc.call_id)
        if call is None:
            inc._send_response(481, "Call/Transaction Does Not Exist")
            return
        media = call.media
        if inc.sdp_offer is not None:
            try:
                choice = sdp.choose(inc.sdp_offer, self.settings.codecs)
            except ValueError:
                inc._send_response(488, "Not Acceptable Here")
                return
            if choice.peer[0] != "0.0.0.0" and not self.media_allowed(choice.peer[0], inc.source_addr[0], call.call_id):
                inc._send_response(488, "Not Acceptable Here")
                return
            if choice.peer[0] != "0.0.0.0":  # 0.0.0.0: old-style hold, keep the peer
                media.connect(choice.peer, choice.payload_type, choice.dtmf_payload_type)
        current = sdp.MediaChoice(media.peer or ("0.0.0.0", 0), media.payload_type, media.dtmf_payload_type)
        inc.accept(sdp.answer(self.local_addr[0], media.port, current))

    def _on_bye(self, _inc: IncomingCall, request: SipRequest) -> None:
        call = self.calls.get(request.call_id or "")
        if call is not None:
            call.finish("remote_bye")

    def _on_transfer_progress(self, call_id: str, status: int, _reason: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            call.transfer_progress(status)

    def _on_refer(self, inc: IncomingCall, target: str) -> None:
        call = self.calls.get(inc.call_id)
        handler = self.on_refer
        if call is None or handler is None:
            notify_refer(inc, 603, "Declined")
            return

        async def transfer() -> None:
            try:
                status = await handler(call, target)
            except Exception:
                log.exception("transfer failed")
                status = 500
            notify_refer(inc, status)

        self._spawn(transfer())
