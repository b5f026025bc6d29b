"""What veribot overrides or works around in aiosipua 0.7.1 (issue 10 item 6), one test per
behaviour, so that an upgrade fails here — loudly, naming the workaround — rather than in a
live call. Three kinds:
  * the private methods our subclasses override (bot/telephony/sip/agents.py, guard.py) still
    exist with the shape we override, and aiosipua still dispatches through them;
  * each override does its job through the real endpoint;
  * the library bugs we work around are still there (when one is fixed upstream, the test
    says which workaround to delete)."""

from __future__ import annotations

import asyncio
import inspect

import aiosipua
import pytest
from aiosipua import IncomingCall, OutgoingCall, SipMessage, SipUAC, SipUAS, UdpSipTransport
from raw_sip import RawSip

from bot.telephony.sip.agents import EdgeUAC, EdgeUAS
from bot.telephony.sip.guard import GuardedUdpTransport, stamp_via_received

OVERRIDDEN = [  # (class, method, its parameters as we override or call it)
    (SipUAS, "_handle_request", ["self", "request", "addr"]),
    (SipUAS, "_handle_options", ["self", "request", "addr"]),
    (SipUAS, "_send_error", ["self", "request", "status_code", "reason", "extra_headers"]),
    (SipUAC, "handle_response", ["self", "response", "addr"]),
    (UdpSipTransport, "send", ["self", "message", "addr"]),
    (IncomingCall, "_send_response", ["self", "status_code", "reason", "body", "content_type", "extra_headers"]),
]


@pytest.mark.parametrize(("cls", "name", "params"), OVERRIDDEN, ids=lambda v: getattr(v, "__name__", str(v)))
def test_overridden_internals_keep_their_shape(cls, name, params) -> None:
    method = getattr(cls, name, None)
    assert method is not None, f"aiosipua {aiosipua.__version__}: {cls.__name__}.{name} is gone; see agents.py"
    assert list(inspect.signature(method).parameters) == params, f"{cls.__name__}.{name} changed shape"


def test_the_library_dispatches_through_the_overridden_methods() -> None:
    transport = GuardedUdpTransport()
    uas = EdgeUAS(transport, uac=EdgeUAC(transport))
    assert uas._handlers["OPTIONS"].__func__ is EdgeUAS._handle_options  # built from self._handle_options
    assert "INVITE" in uas._handlers and "CANCEL" in uas._handlers
    assert uas._on_message.__func__ is SipUAS._on_message  # requests go through self._handle_request
    assert "self._handle_request(" in inspect.getsource(SipUAS._on_message)
    assert "self.uac.handle_response(" in inspect.getsource(SipUAS._on_message)
    assert "self.send(" in inspect.getsource(UdpSipTransport.send_reply)  # replies pass our send()
    marker = object()
    uas._calls["x"] = marker  # forget() drops from the table get_call reads
    assert uas.get_call("x") is marker
    uas.forget("x")
    assert uas.get_call("x") is None
    assert {"_reject_code", "_reject_reason"} <= set(OutgoingCall.__dataclass_fields__)  # read by dial()


async def _plain_agents():
    """aiosipua's own UAS and UAC on our transport (not started: what is sent is captured)."""
    transport = GuardedUdpTransport()
    transport.configure(8192, None)
    sent: list = []
    transport.on_send = lambda msg, addr: sent.append(msg)
    uac = SipUAC(transport)
    uas = SipUAS(transport, uac=uac)
    transport.on_message = uas._on_message
    return transport, uas, uac, sent


INVITE = (
    "INVITE sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKrr1\r\n"
    "Record-Route: <sip:127.0.0.1:5998;lr>\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\n"
    "Call-ID: rr-1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5999>\r\nMax-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n"
)


async def test_upstream_still_leaves_record_route_out_of_uas_responses() -> None:
    transport, uas, _, sent = await _plain_agents()
    uas.on_invite = lambda inc: inc.accept(None)
    transport._dispatch(INVITE.encode(), ("127.0.0.1", 5999))
    ok = [m for m in sent if getattr(m, "status_code", 0) == 200]
    assert ok, "the plain UAS answered"
    assert not ok[0].headers.get("record-route"), (
        "aiosipua now copies Record-Route into UAS responses: delete sipmsg.keep_record_route")


async def test_record_route_reaches_our_responses(make_endpoint) -> None:
    bot = await make_endpoint(lambda call: call.ended.wait())
    sip = RawSip()
    try:
        raw = INVITE.replace("127.0.0.1:5999", f"127.0.0.1:{sip.port}").replace("rr-1", "rr-2")
        sdp = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        raw = raw.replace("Content-Length: 0\r\n\r\n", f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")
        sip.sock.sendto(raw.encode(), bot.local_addr)
        await sip.wait_for(lambda: 200 in sip.statuses("rr-2"))
        ok = next(r for r in sip.replies if b"rr-2" in r and r.startswith(b"SIP/2.0 200"))
        assert b"Record-Route: <sip:127.0.0.1:5998;lr>" in ok
    finally:
        sip.close()


async def test_upstream_still_does_not_ack_error_finals() -> None:
    transport, _, uac, sent = await _plain_agents()
    out = uac.send_invite("sip:bot@127.0.0.1", "sip:x@127.0.0.1:5997", ("127.0.0.1", 5997))
    invite = sent[0]
    busy = (
        f"SIP/2.0 486 Busy Here\r\nVia: {invite.headers.get('via')[0]}\r\nFrom: {invite.headers.get_first('from')}\r\n"
        f"To: {invite.headers.get_first('to')};tag=b1\r\nCall-ID: {out.call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )
    transport._dispatch(busy.encode(), ("127.0.0.1", 5997))
    assert out._reject_code == 486, "the plain UAC took the 486"
    assert not [m for m in sent if getattr(m, "method", "") == "ACK"], (
        "aiosipua now ACKs non-2xx finals itself: delete sipmsg.FinalResponses and EdgeUAC.on_response")


async def test_our_endpoint_acks_error_finals(make_endpoint) -> None:
    phone = await make_endpoint(ring_timeout=3)
    callee = RawSip()
    try:
        dialling = asyncio.ensure_future(phone.dial(f"sip:x@127.0.0.1:{callee.port}"))
        await callee.wait_for(lambda: any(r.startswith(b"INVITE") for r in callee.replies))
        invite = SipMessage.parse(next(r for r in callee.replies if r.startswith(b"INVITE")))
        busy = (
            f"SIP/2.0 486 Busy Here\r\nVia: {invite.headers.get('via')[0]}\r\nFrom: {invite.headers.get_first('from')}\r\n"
            f"To: {invite.headers.get_first('to')};tag=b1\r\nCall-ID: {invite.call_id}\r\nCSeq: 1 INVITE\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        callee.sock.sendto(busy.encode(), phone.local_addr)
        assert (await asyncio.wait_for(dialling, 5)).status == 486
        await callee.wait_for(lambda: any(r.startswith(b"ACK ") for r in callee.replies))
    finally:
        callee.close()


def test_via_received_and_rport_are_stamped() -> None:
    msg = SipMessage.parse(
        b"OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;rport;branch=z9hG4bKv1\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKv0\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: v\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    stamp_via_received(msg, ("203.0.113.7", 40000))
    vias = msg.headers.get("via")
    assert "received=203.0.113.7" in vias[0] and "rport=40000" in vias[0] and "branch=z9hG4bKv1" in vias[0]
    assert vias[1] == "SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKv0"
    same = SipMessage.parse(msg.to_bytes() if hasattr(msg, "to_bytes") else bytes(msg))
    stamp_via_received(same, ("10.0.0.9", 5060))  # already stamped and from the named host: unchanged
    assert same.headers.get("via")[0].count("received=") == 1
