"""Forged answers and in-dialog requests (issue 24 items 7 and 9), replayed from raw UDP sockets
on loopback addresses: a flood of stray 200 OKs from an address the bot never talked to gets
no ACK and no BYE (it used to get one of each per 200: 2.2x the bytes, reflected); from a peer
it did dial, the answers are rate-limited like requests; a BYE from another address with the
right Call-ID and tags ends nothing, the peer's own BYE ends the call; a forged 486 for a call
being placed does not fail it."""

from __future__ import annotations

import asyncio
import re
import uuid

from raw_sip import RawSip

from bot.telephony.sip.call import SipCall


def _stray_200(sip: RawSip, target: tuple[str, int]) -> None:
    """A 200 OK to an INVITE nobody sent: new Call-ID and tags each time."""
    cid, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    msg = (
        f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {target[0]}:{target[1]};branch=z9hG4bK{tag}\r\n"
        f"From: <sip:96110@{target[0]}>;tag=a{tag}\r\nTo: <sip:13800000001@{sip.host}>;tag=b{tag}\r\n"
        f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:13800000001@{sip.host}:{sip.port}>\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    sip.sock.sendto(msg.encode(), target)


async def _flood(sip: RawSip, target: tuple[str, int], n: int) -> list[bytes]:
    """`n` stray 200s at ~500/s (paced so that no socket drops them), and every reply."""
    for i in range(n):
        _stray_200(sip, target)
        if i % 10 == 9:
            await asyncio.sleep(0.02)
            sip.drain()
    await asyncio.sleep(0.5)
    return sip.drain()


async def test_a_thousand_stray_200s_from_an_unseen_address_get_nothing_back(make_endpoint) -> None:
    bot = await make_endpoint(trusted_sources=("127.0.0.2",))
    forger = RawSip("127.0.0.9")
    try:
        replies = await _flood(forger, bot.local_addr, 1000)
        stats = bot.transport.stats
        assert replies == [] and stats.foreign + stats.responses_limited == 1000 and stats.foreign >= 60
    finally:
        forger.close()


async def test_stray_200s_from_a_dialled_peer_are_rate_limited_like_requests(make_endpoint) -> None:
    bot = await make_endpoint(rate_limit_per_second=20.0, rate_limit_burst=60)
    callee = RawSip("127.0.0.1")  # the bot dials it (it never answers): a peer the bot talked to
    try:
        dial = asyncio.ensure_future(bot.dial(f"sip:13800000001@127.0.0.1:{callee.port}"))
        await callee.wait_for(lambda: any(r.startswith(b"INVITE") for r in callee.replies))
        callee.replies.clear()
        replies = await _flood(callee, bot.local_addr, 1000)
        acks = sum(r.startswith(b"ACK") for r in replies)
        byes = sum(r.startswith(b"BYE") for r in replies)
        assert acks == byes and 0 < acks <= 80  # the burst (then a ban), not 1,000
        assert bot.transport.stats.responses_limited >= 900
        dial.cancel()
    finally:
        callee.close()


def _to_tag(replies: list[bytes], call_id: str) -> str:
    for r in replies:
        if r.startswith(b"SIP/2.0 200") and call_id.encode() in r:
            return re.search(rb"\r\nTo:[^\r]*;tag=([^;\r>]+)", r).group(1).decode()
    raise AssertionError("no 200 OK")


async def test_a_bye_from_another_address_ends_nothing_the_peers_own_does(make_endpoint) -> None:
    calls: list[SipCall] = []

    async def inbound(call: SipCall) -> None:
        calls.append(call)
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    caller, forger = RawSip("127.0.0.1"), RawSip("127.0.0.7")
    try:
        cid, _ = caller.invite(bot.local_addr)
        await caller.wait_for(lambda: 200 in caller.statuses(cid))
        tag = _to_tag(caller.replies, cid)
        caller.request("ACK", bot.local_addr, call_id=cid, to_tag=tag)
        await asyncio.sleep(0.1)
        (call,) = calls
        # same Call-ID, same From tag (RawSip derives it from the Call-ID), the bot's To tag
        forger.request("BYE", bot.local_addr, call_id=cid, to_tag=tag, cseq=2)
        forger.request("CANCEL", bot.local_addr, call_id=cid, cseq=1)
        await asyncio.sleep(0.4)
        assert not call.ended.is_set() and forger.drain() == []
        assert bot.transport.stats.foreign == 2
        caller.request("BYE", bot.local_addr, call_id=cid, to_tag=tag, cseq=2)
        await caller.wait_for(lambda: 200 in caller.statuses(cid, "BYE"))
        assert call.ended.is_set() and call.end_reason == "remote_bye"
    finally:
        caller.close()
        forger.close()


async def test_a_forged_486_for_a_call_being_placed_does_not_fail_it(make_endpoint) -> None:
    bot = await make_endpoint(ring_timeout=1.5)
    callee, forger = RawSip("127.0.0.1"), RawSip("127.0.0.8")
    try:
        dial = asyncio.ensure_future(bot.dial(f"sip:13800000001@127.0.0.1:{callee.port}"))
        await callee.wait_for(lambda: any(r.startswith(b"INVITE") for r in callee.replies))
        invite = next(r for r in callee.replies if r.startswith(b"INVITE")).decode()
        head = {k.lower(): v for k, v in re.findall(r"\r\n([A-Za-z-]+): ([^\r]*)", invite)}
        busy = (f"SIP/2.0 486 Busy Here\r\nVia: {head['via']}\r\nFrom: {head['from']}\r\n"
                f"To: {head['to']};tag=forged\r\nCall-ID: {head['call-id']}\r\nCSeq: {head['cseq']}\r\n"
                "Content-Length: 0\r\n\r\n")
        forger.sock.sendto(busy.encode(), bot.local_addr)
        out = await asyncio.wait_for(dial, 10)
        assert out.status == 408  # rang out: the forged 486 was not taken for the callee's answer
        assert forger.drain() == []
    finally:
        callee.close()
        forger.close()
