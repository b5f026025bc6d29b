"""Small SIP message helpers the endpoint needs and aiosipua lacks."""

from __future__ import annotations

import asyncio

from aiosipua import IncomingCall, SipRequest, SipResponse
from aiosipua.headers import parse_uri


def uri_target(uri: str, default_port: int = 5060) -> tuple[str, int]:
    u = parse_uri(uri if uri.startswith("sip") else f"sip:{uri}")
    return (u.host, u.port or default_port)


def retry_after_seconds(resp: SipResponse | None) -> float | None:
    raw = resp.get_header("retry-after") if resp is not None else None
    if not raw:
        return None
    head = raw.split(";")[0].split("(")[0].strip()
    return float(head) if head.isdigit() else None


def ack_for_final(invite: SipRequest, resp: SipResponse) -> SipRequest:
    ack = SipRequest(method="ACK", uri=invite.uri)
    ack.headers.append("Via", invite.headers.get("via")[0])
    for name in ("From", "Call-ID", "Max-Forwards"):
        value = invite.headers.get_first(name.lower())
        if value:
            ack.headers.set_single(name, value)
    for route in invite.headers.get("route"):
        ack.headers.append("Route", route)
    ack.headers.set_single("To", resp.headers.get_first("to") or "")
    cseq = invite.cseq
    ack.headers.set_single("CSeq", f"{cseq.seq if cseq else 1} ACK")
    ack.headers.set_single("Content-Length", "0")
    return ack


def keep_record_route(inc: IncomingCall) -> None:
    """aiosipua's UAS leaves Record-Route out of its responses; behind a proxy the caller's
    BYE then gets 404 (TELEPHONY.md pitfall 1). Copy it into every response of the call."""
    record_route = inc.invite.headers.get("record-route")
    if not record_route:
        return
    send = inc._send_response

    def with_rr(code: int, reason: str, **kw: object) -> SipResponse | None:
        extra = dict(kw.pop("extra_headers", None) or {})  # type: ignore[call-overload]
        extra["Record-Route"] = ", ".join(record_route)
        return send(code, reason, extra_headers=extra, **kw)  # type: ignore[arg-type]

    inc._send_response = with_rr  # type: ignore[method-assign]


class FinalResponses:
    """Remembers the last INVITE sent per call (40 s) and the final error responses (5 s):
    a non-2xx final gets its ACK — also after a digest-auth retry — and the dialler can
    read Retry-After from it."""

    def __init__(self) -> None:
        self._invites: dict[str, tuple[SipRequest, tuple[str, int]]] = {}
        self._finals: dict[str, SipResponse] = {}

    def sent(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        if isinstance(message, SipRequest) and message.method == "INVITE":
            cid = message.call_id or ""
            if cid not in self._invites:
                asyncio.get_running_loop().call_later(40.0, self._invites.pop, cid, None)
            self._invites[cid] = (message, addr)

    def received(self, resp: SipResponse) -> tuple[SipRequest, tuple[str, int]] | None:
        """The ACK to send (and where) for a final error response to an INVITE, else None."""
        cseq = resp.cseq
        if cseq is None or cseq.method.upper() != "INVITE" or resp.status_code < 300:
            return None
        cid = resp.call_id or ""
        self._finals[cid] = resp
        asyncio.get_running_loop().call_later(5.0, self._finals.pop, cid, None)
        sent = self._invites.get(cid)
        return (ack_for_final(sent[0], resp), sent[1]) if sent is not None else None

    def destinations(self) -> set[str]:
        """Hosts we sent an INVITE to in the last 40 s (whose answers we may hear)."""
        return {addr[0] for _, addr in self._invites.values()}

    def take(self, call_id: str) -> SipResponse | None:
        return self._finals.pop(call_id, None)
