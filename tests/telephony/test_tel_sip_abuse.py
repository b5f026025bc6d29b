"""Attacks on the SIP edge (issue 12 items 2 and 6), each replayed from raw UDP sockets on
loopback addresses: tagged requests that dodged the rate limit, a burst that took every
line, INVITE-then-CANCEL, INVITEs from untrusted sources, and SDP that points the bot's RTP
at a third party."""

from __future__ import annotations

import asyncio
import logging
import socket

from raw_sip import RawSip
from sip_peers import invite_statuses

from bot.telephony.sip.call import SipCall


def _handler(started: list[str]):
    async def inbound(call: SipCall) -> None:
        started.append(call.call_id)
        await call.ended.wait()

    return inbound


async def test_tagged_requests_count_against_the_rate_limit(make_endpoint) -> None:
    bot = await make_endpoint(_handler([]), rate_limit_per_second=1.0, rate_limit_burst=5, rate_limit_ban_seconds=60)
    sip = RawSip()
    try:
        for i in range(30):
            sip.request("OPTIONS", bot.local_addr, to_tag=f"t{i}")
        await asyncio.sleep(0.3)
        assert bot.transport.stats.rate_limited == 25
        sip.request("OPTIONS", bot.local_addr)  # banned: untagged requests are dropped too
        await asyncio.sleep(0.1)
        assert bot.transport.stats.rate_limited == 26
    finally:
        sip.close()


async def test_tagged_invite_for_no_dialog_is_refused_not_answered(make_endpoint) -> None:
    started: list[str] = []
    bot = await make_endpoint(_handler(started))
    sip = RawSip()
    try:
        ids = [sip.invite(bot.local_addr, to_tag=f"x{i}")[0] for i in range(5)]
        await sip.wait_for(lambda: all(481 in sip.statuses(c) for c in ids))
        await asyncio.sleep(0.2)
        assert started == [] and bot.busy == 0
        assert all(200 not in sip.statuses(c) for c in ids)
    finally:
        sip.close()


async def test_one_source_cannot_take_every_line_and_the_trunk_still_gets_in(make_endpoint) -> None:
    started: list[str] = []
    bot = await make_endpoint(_handler(started), capacity=50, trusted_sources=("127.0.0.2",))
    burst, trunk = RawSip("127.0.0.1"), RawSip("127.0.0.2")
    try:
        ids = [burst.invite(bot.local_addr)[0] for _ in range(60)]
        await burst.wait_for(lambda: all(any(s >= 200 for s in burst.statuses(c)) for c in ids), 10)
        answered = sum(200 in burst.statuses(c) for c in ids)
        assert 0 < answered <= bot.settings.per_source_limit < 50
        assert bot.busy == answered
        refused = [s for c in ids for s in burst.statuses(c) if s >= 300]
        assert set(refused) == {503}
        call_id, _ = trunk.invite(bot.local_addr)
        await trunk.wait_for(lambda: 200 in trunk.statuses(call_id))
        assert bot.busy == answered + 1
    finally:
        burst.close()
        trunk.close()


async def test_invite_then_cancel_gets_487_and_never_a_200(make_endpoint) -> None:
    started: list[str] = []
    bot = await make_endpoint(_handler(started))
    sip = RawSip()
    try:
        for _ in range(5):
            call_id, branch = sip.invite(bot.local_addr)
            sip.request("CANCEL", bot.local_addr, call_id=call_id, branch=branch)
            await sip.wait_for(lambda c=call_id: 487 in sip.statuses(c) and 200 in sip.statuses(c, "CANCEL"))
            await asyncio.sleep(0.5)  # a late 200 would have arrived by now
            finals = [s for s in sip.statuses(call_id) if s >= 200]
            assert finals == [487], finals
        assert started == [] and bot.busy == 0 and not bot.ports.in_use
    finally:
        sip.close()


async def test_invite_from_an_untrusted_source_is_refused(make_endpoint) -> None:
    started: list[str] = []
    bot = await make_endpoint(_handler(started), inbound_sources=(), trusted_sources=("127.0.0.2",))
    stranger = RawSip("127.0.0.1")
    try:
        call_id, _ = stranger.invite(bot.local_addr)
        await stranger.wait_for(lambda: 403 in stranger.statuses(call_id))
        assert started == [] and bot.busy == 0
        trusted = RawSip("127.0.0.2")
        try:
            call_id, _ = trusted.invite(bot.local_addr)
            await trusted.wait_for(lambda: 200 in trusted.statuses(call_id))
        finally:
            trusted.close()
        assert len(started) == 1
    finally:
        stranger.close()


def _rtp_sink(host: str) -> socket.socket:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((host, 0))
    sink.setblocking(False)
    return sink


def _received(sink: socket.socket) -> int:
    n = 0
    while True:
        try:
            sink.recv(4096)
            n += 1
        except BlockingIOError:
            return n


async def test_sdp_pointing_rtp_at_a_third_party_gets_488_and_no_rtp(make_endpoint, caplog) -> None:
    started: list[str] = []

    async def talker(call: SipCall) -> None:
        started.append(call.call_id)
        call.media.play(b"\x00\x10" * 8000)
        await call.ended.wait()

    bot = await make_endpoint(talker)
    sip, victim = RawSip("127.0.0.1"), _rtp_sink("127.0.0.3")
    try:
        with caplog.at_level(logging.INFO):
            call_id, _ = sip.invite(bot.local_addr, media=victim.getsockname(), caller="13812345678")
            await sip.wait_for(lambda: 488 in sip.statuses(call_id))
            await asyncio.sleep(0.5)
        assert _received(victim) == 0 and started == [] and not bot.ports.in_use
        refusal = [r.getMessage() for r in caplog.records if "media address" in r.getMessage()]
        assert refusal, "the refusal is logged"
        assert not any("13812345678" in m or "12345678" in m for m in refusal)  # no personal data
    finally:
        sip.close()
        victim.close()


async def test_media_in_the_trunks_configured_range_is_allowed(make_endpoint) -> None:
    started: list[str] = []

    async def talker(call: SipCall) -> None:
        started.append(call.call_id)
        call.media.play(b"\x00\x10" * 8000)
        await call.ended.wait()

    bot = await make_endpoint(talker, media_networks=("127.0.0.0/30",))
    sip, media = RawSip("127.0.0.1"), _rtp_sink("127.0.0.3")
    try:
        call_id, _ = sip.invite(bot.local_addr, media=media.getsockname())
        await sip.wait_for(lambda: 200 in sip.statuses(call_id))
        await asyncio.sleep(0.3)
        assert _received(media) > 0 and len(started) == 1
    finally:
        sip.close()
        media.close()


async def test_reinvite_moving_media_outside_policy_is_refused(make_endpoint) -> None:
    from bot.telephony.sip import sdp

    bot = await make_endpoint(_handler([]))
    phone = await make_endpoint()
    statuses = invite_statuses(phone)
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    bot_call = next(iter(bot.calls.values()))
    peer = bot_call.media.peer
    victim = _rtp_sink("127.0.0.3")
    try:
        uac_call = phone.uac._calls[out.call.call_id]
        phone.uac.send_reinvite(uac_call.dialog, sdp.offer("127.0.0.3", victim.getsockname()[1], ("PCMU",)),
                                uac_call.remote_addr)
        for _ in range(100):
            if 488 in statuses:
                break
            await asyncio.sleep(0.02)
        assert 488 in statuses
        await asyncio.sleep(0.3)
        assert bot_call.media.peer == peer and _received(victim) == 0
        assert not out.call.ended.is_set()
    finally:
        victim.close()


async def test_an_answer_pointing_media_elsewhere_ends_the_outbound_call(make_endpoint) -> None:
    """The callee's 200 names a media address that is neither where we sent the INVITE nor
    in the trunk's media range: we hang up at once and send it no RTP."""
    callee = await make_endpoint(_handler([]), public_address="127.0.0.3")  # advertises 127.0.0.3 in its SDP
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{callee.local_addr[1]}")
    assert out.call is None and out.status == 488 and "media address" in out.reason, out
    assert phone.busy == 0 and not phone.ports.in_use


async def test_a_retransmitted_invite_is_one_call_and_a_merged_one_gets_482(make_endpoint) -> None:
    started: list[str] = []
    bot = await make_endpoint(_handler(started))
    sip = RawSip()
    try:
        call_id, branch = sip.invite(bot.local_addr)
        sip.invite(bot.local_addr, call_id=call_id, branch=branch)  # the same INVITE again (UDP retransmission)
        await sip.wait_for(lambda: 200 in sip.statuses(call_id))
        await asyncio.sleep(0.5)
        assert started == [call_id] and bot.busy == 1 and len(bot.ports.in_use) == 1
        sip.invite(bot.local_addr, call_id=call_id)  # same Call-ID, a new transaction, no tag
        await sip.wait_for(lambda: 482 in sip.statuses(call_id))
        assert started == [call_id] and bot.busy == 1
    finally:
        sip.close()


async def test_two_thousand_tagged_options_with_the_defaults_are_banned(make_endpoint) -> None:
    bot = await make_endpoint(_handler([]))
    sip = RawSip()
    try:
        for i in range(2000):
            sip.request("OPTIONS", bot.local_addr, to_tag=f"t{i}", call_id=f"o{i}")
            if i % 20 == 0:
                await asyncio.sleep(0.002)  # let the endpoint read: the kernel drops what overflows its buffer
        await asyncio.sleep(0.5)
        burst = bot.settings.rate_limit_burst
        assert bot.transport.stats.rate_limited >= 2000 - burst - 20  # the burst, plus what refilled meanwhile
        assert sum(r.startswith(b"SIP/2.0") for r in sip.drain()) <= burst + 20
    finally:
        sip.close()


def test_the_ban_expires_and_trusted_sources_are_never_limited() -> None:
    from bot.telephony.settings import TelephonySettings
    from bot.telephony.sip.edge_policy import EdgePolicy
    from bot.telephony.sip.guard import RateLimit

    policy = EdgePolicy.from_settings(TelephonySettings(trusted_sources=("10.1.0.0/16",), trunk="sip:192.0.2.7:5060"))
    rate = RateLimit(1.0, 3, 60.0, policy.is_trusted)
    assert [rate.allow("198.51.100.1", now=0.0) for _ in range(5)] == [True, True, True, False, False]
    assert rate.allow("198.51.100.1", now=59.0) is False  # banned
    assert rate.allow("198.51.100.1", now=60.5) is True  # the ban expired
    assert all(rate.allow("10.1.2.3", now=0.0) for _ in range(100))  # a trusted network
    assert all(rate.allow("192.0.2.7", now=0.0) for _ in range(100))  # the trunk
    assert policy.may_call("192.0.2.7") and not policy.may_call("198.51.100.1")


def test_a_bad_address_in_the_policy_keys_is_a_clear_error() -> None:
    import pytest

    from bot.telephony.settings import TelephonySettings

    for key in ("trusted_sources", "inbound_sources", "media_networks"):
        with pytest.raises(ValueError, match=f"{key}: 'pbx.example.org' is not an IP address or network"):
            TelephonySettings(**{key: ("10.0.0.0/8", "pbx.example.org")})
    with pytest.raises(ValueError, match="max_calls_per_source"):
        TelephonySettings(max_calls_per_source=0)
    assert TelephonySettings(capacity=50, max_calls_per_source=80).per_source_limit == 49
