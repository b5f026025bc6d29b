"""RFC 4475 torture messages (all 49, fixtures/rfc4475/README.md) and floods at the SIP edge:
valid ones reach the user agent, invalid ones get 400 or are dropped, and a call in progress
never notices."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from sip_peers import FIXTURES

from bot.telephony.sip.call import SipCall

CASES = sorted((FIXTURES / "rfc4475").glob("*/*.*"))
# valid/: RFC 4475 3.1.1 and 3.4; app/: 3.2-3.3, well-formed, for the user agent to answer;
# tolerated/: 3.1.2 messages the RFC lets a liberal element accept, and veribot does;
# invalid/: the rest of 3.1.2 (and 3.3.8-3.3.9) — 400 or dropped
REACHES_UA = ("valid", "app", "tolerated")
RFC4475 = {
    "valid": "wsinv intmeth esc01 escnull esc02 lwsdisp longreq dblreq semiuri transports mpart01 unreason"
             " noreason unkscm zeromf inv2543",
    "app": "badbranch novelsc unksm2 bext01 invut regaut01 bcast cparam01 cparam02 regescrt sdp01",
    "tolerated": "badaspec baddate baddn regbadct",
    "invalid": "badinv01 clerr ncl scalar02 scalarlg quotbal ltgtruri lwsruri lwsstart trws escruri badvers"
               " mismatch01 mismatch02 bigcode insuf multi01 mcl01",
}


def load(path) -> bytes:
    raw = path.read_bytes()
    return raw if path.suffix == ".raw" else raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def _live_call(make_endpoint):
    async def inbound(call: SipCall) -> None:
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    seen: list[object] = []
    deliver = bot.transport.on_message

    def spy(msg, addr):
        seen.append(msg)
        deliver(msg, addr)

    bot.transport.on_message = spy
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    assert out.call is not None
    seen.clear()
    return bot, out.call, seen


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_torture_message(make_endpoint, path) -> None:
    bot, call, seen = await _live_call(make_endpoint)
    heard = bytearray()
    call.media.on_audio = heard.extend
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        before = bot.transport.stats.malformed
        sock.sendto(load(path), bot.local_addr)
        await asyncio.sleep(0.15)
        if path.parent.name in REACHES_UA:
            assert len(seen) == 1, "a valid message must reach the user agent"
            assert bot.transport.stats.malformed == before
        else:
            assert seen == [], "an invalid message must not reach the user agent"
            assert bot.transport.stats.malformed == before + 1
        assert bot.transport.stats.handler_errors == 0
        # the endpoint is up and answers, and the call in progress carries on
        options = (
            "OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{sock.getsockname()[1]};rport;branch=z9hG4bKalive\r\n"
            "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\nCall-ID: alive-1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(options.encode(), bot.local_addr)
        reply = b""
        for _ in range(50):
            await asyncio.sleep(0.02)
            try:
                reply = sock.recv(4096)
                if b"alive-1" in reply:
                    break
            except BlockingIOError:
                pass
        assert reply.startswith(b"SIP/2.0 200")
        assert not call.ended.is_set() and len(heard) > 0 and call.call_id in bot.calls
    finally:
        sock.close()


def test_every_rfc4475_message_is_a_fixture() -> None:
    names = {kind: sorted(n.split()) for kind, n in RFC4475.items()}
    assert sum(map(len, names.values())) == 49
    on_disk = {kind: sorted(p.stem for p in CASES if p.parent.name == kind) for kind in RFC4475}
    on_disk["invalid"] = [n for n in on_disk["invalid"] if n not in ("binary", "nul-in-header")]  # our own extras
    assert on_disk == names


@pytest.mark.parametrize("name", ["escruri", "quotbal", "multi01", "mismatch02", "ncl", "scalar02"])
async def test_rfc4475_invalid_request_gets_400_when_routable(make_endpoint, name) -> None:
    """With the Via pointed at us (rport), the 400 comes back carrying the reason."""
    bot, call, _seen = await _live_call(make_endpoint)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    msg = load(FIXTURES / "rfc4475" / "invalid" / f"{name}.sip")
    head, sep, body = msg.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    via = next(i for i, line in enumerate(lines) if line.lower().startswith((b"via", b"v:")))
    port = sock.getsockname()[1]
    lines[via] = f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{name}".encode()
    try:
        sock.sendto(b"\r\n".join(lines) + sep + body, bot.local_addr)
        reply = await asyncio.get_running_loop().run_in_executor(None, sock.recv, 4096)
    finally:
        sock.close()
    assert reply.startswith(b"SIP/2.0 400"), reply[:200]
    assert b"Warning: 399 veribot" in reply
    assert not call.ended.is_set()


async def test_invalid_request_with_routable_via_gets_400(make_endpoint) -> None:
    bot, _call, _seen = await _live_call(make_endpoint)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    port = sock.getsockname()[1]
    msg = (
        "OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKbad\r\n"
        "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\nCall-ID: bad-1\r\n"
        "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    try:
        sock.sendto(msg.encode(), bot.local_addr)
        reply = await asyncio.get_running_loop().run_in_executor(None, sock.recv, 4096)
    finally:
        sock.close()
    assert reply.startswith(b"SIP/2.0 400")
    assert b"CSeq method does not match" in reply


async def test_oversized_message_is_dropped(make_endpoint) -> None:
    bot, call, seen = await _live_call(make_endpoint)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big = (CASES[0].read_bytes() + b"X-Pad: " + b"a" * 9000 + b"\r\n")
    sock.sendto(big, bot.local_addr)
    sock.close()
    await asyncio.sleep(0.1)
    assert seen == [] and bot.transport.stats.oversize == 1 and not call.ended.is_set()


async def test_flood_from_one_source_is_banned_but_the_trunk_is_not(make_endpoint) -> None:
    async def inbound(call: SipCall) -> None:
        await call.ended.wait()

    bot = await make_endpoint(inbound, rate_limit_per_second=1.0, rate_limit_burst=5, rate_limit_ban_seconds=60,
                              trusted_sources=("127.0.0.2",))
    flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flooder.bind(("127.0.0.1", 0))
    trunk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    trunk.bind(("127.0.0.2", 0))
    try:
        for i in range(30):
            flooder.sendto(_options(flooder, f"flood-{i}"), bot.local_addr)
        for i in range(10):
            trunk.sendto(_options(trunk, f"trunk-{i}"), bot.local_addr)
        await asyncio.sleep(0.2)
        assert bot.transport.stats.rate_limited == 25
        trunk.setblocking(False)
        answered = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                answered += b"200 OK" in trunk.recv(4096)
        assert answered == 10
    finally:
        flooder.close()
        trunk.close()


def _options(sock: socket.socket, call_id: str) -> bytes:
    host, port = sock.getsockname()
    return (
        "OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK{call_id}\r\n"
        f"From: <sip:t@{host}>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_truncated_and_random_rtp_from_the_peer_never_ends_the_call(make_endpoint) -> None:
    import os

    from bot.telephony.media.rtp import RtpPacket

    got_audio = bytearray()

    async def inbound(call: SipCall) -> None:
        call.media.on_audio = got_audio.extend
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    call = out.call
    bot_call = next(iter(bot.calls.values()))
    good = RtpPacket(call.media.payload_type, 7, 1234, 99, b"\xd5" * 160).to_bytes()
    send = call.media._transport.sendto  # from the negotiated address, as the real peer
    for cut in range(len(good)):
        send(good[:cut], call.media.peer)
    for n in range(100):
        send(os.urandom(1 + n % 60), call.media.peer)
    send(bytes([0x8F]) + good[1:30], call.media.peer)  # CSRC count lies
    await asyncio.sleep(0.3)
    before = len(got_audio)
    await asyncio.sleep(0.3)
    assert bot_call.media.stats.malformed >= 12
    assert not bot_call.ended.is_set() and not call.ended.is_set() and bot.busy == 1
    assert len(got_audio) > before  # the phone's normal audio still arrives


def test_edge_checks_follow_rfc4475() -> None:
    from aiosipua import SipMessage

    from bot.telephony.sip.guard import check_request, check_response

    def why(name: str) -> str | None:
        path = next(p for p in CASES if p.stem == name)
        raw = load(path)
        msg = SipMessage.parse(raw)
        return check_response(msg) if raw.startswith(b"SIP/") else check_request(msg, raw)

    assert why("longreq") is None and why("inv2543") is None  # branchless Vias are RFC 2543, not errors
    assert why("intmeth") is None  # a quoted NUL is legal
    assert why("escruri") == "headers in the Request-URI"
    assert why("quotbal") == "unterminated quoted string in To"
    assert why("scalarlg") == "CSeq number out of range"
    assert why("nul-in-header") == "NUL byte in the header"


ANSWERS = {  # RFC 3261 8.2 as RFC 4475 expects it of a user agent server
    "badbranch": 200, "bext01": 420, "cparam01": 405, "cparam02": 405, "invut": 415, "novelsc": 416,
    "regaut01": 405, "regescrt": 405, "sdp01": 200, "unksm2": 405, "dblreq": 405, "esc01": 200,
    "esc02": 501, "escnull": 405, "intmeth": 501, "inv2543": 200, "longreq": 200, "lwsdisp": 200,
    "mpart01": 405, "semiuri": 200, "transports": 200, "unkscm": 416, "wsinv": 200, "zeromf": 200,
    "badaspec": 200, "baddate": 200, "baddn": 200, "regbadct": 405,
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
async def test_rfc4475_request_gets_its_final_answer(make_endpoint, name) -> None:
    """With the top Via pointed at us: unknown method 501, unknown scheme 416, unknown
    Require 420, a non-SDP offer 415, methods a bot does not serve 405, the rest 200."""
    # the RFC's INVITEs name documentation addresses for media: allowed here (test_tel_sip_abuse tests the policy)
    bot = await make_endpoint(lambda call: call.ended.wait(), media_networks=("0.0.0.0/0",))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    head, sep, body = load(next(p for p in CASES if p.stem == name)).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    via = next(i for i, line in enumerate(lines) if line.split(b":")[0].strip().lower() in (b"via", b"v"))
    lines[via] = f"Via: SIP/2.0/UDP 127.0.0.1:{sock.getsockname()[1]};rport;branch=z9hG4bK{name}".encode()
    try:
        sock.sendto(b"\r\n".join(lines) + sep + body, bot.local_addr)
        reply = b"SIP/2.0 100"
        while reply.startswith(b"SIP/2.0 1"):
            reply = await asyncio.get_running_loop().run_in_executor(None, sock.recv, 65536)
    finally:
        sock.close()
    assert reply.split(b" ", 2)[1] == str(ANSWERS[name]).encode(), reply[:300]
    if ANSWERS[name] == 420:
        assert b"Unsupported: nothingSupportsThis, nothingSupportsThisEither" in reply
    if ANSWERS[name] == 501:
        assert b"\r\nAllow: " in reply and b"INVITE" in reply
    assert bot.transport.stats.handler_errors == 0
