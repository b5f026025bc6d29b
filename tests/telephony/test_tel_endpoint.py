"""Two veribot endpoints on loopback: audio and DTMF both ways, capacity, timers, leaks."""

from __future__ import annotations

import asyncio

from sip_peers import invite_statuses

from bot.calls import NetworkOutcome
from bot.telephony.calls.sip_runner import outcome_for
from bot.telephony.sip.call import SipCall


async def _wait(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_call_audio_and_dtmf_both_ways_then_everything_is_freed(make_endpoint) -> None:
    got: list[str] = []
    heard_by_bot = bytearray()

    async def inbound(call: SipCall) -> None:
        call.media.on_dtmf = got.append
        call.media.on_audio = heard_by_bot.extend
        call.media.play(b"\x00\x10" * 4000)  # 0.5 s
        call.media.send_dtmf("9#")
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}", caller_id="13812345678")
    assert out.status == 200 and out.call is not None
    call = out.call
    keys: list[str] = []
    heard = bytearray()
    call.media.on_dtmf = keys.append
    call.media.on_audio = heard.extend
    call.media.send_dtmf("1122")
    await _wait(lambda: len(got) == 4 and keys == ["9", "#"] and len(heard) >= 8000)
    assert got == ["1", "1", "2", "2"]  # every digit: live timestamps (pitfall 3)
    assert bot.busy == 1
    call.hangup()
    await phone._release(call)
    await _wait(lambda: bot.busy == 0 and not bot.ports.in_use and not bot._tasks)
    assert phone.busy == 0 and not phone.ports.in_use
    assert len(heard_by_bot) > 0


async def test_capacity_refuses_new_calls_with_503_and_live_call_continues(make_endpoint) -> None:
    async def inbound(call: SipCall) -> None:
        await call.ended.wait()

    bot = await make_endpoint(inbound, capacity=1, retry_after=42)
    phone = await make_endpoint()
    target = f"sip:bot@127.0.0.1:{bot.local_addr[1]}"
    first = await phone.dial(target)
    assert first.call is not None
    second = await phone.dial(target)
    assert (second.status, second.retry_after) == (503, 42.0)
    assert outcome_for(second.status) is NetworkOutcome.CONGESTION
    assert not first.call.ended.is_set() and bot.busy == 1
    heard = bytearray()
    first.call.media.on_audio = heard.extend
    await _wait(lambda: len(heard) > 1600)  # media still flowing on the live call
    first.call.hangup()
    await _wait(lambda: bot.busy == 0)


async def _call_to_a_bot(make_endpoint, **bot_settings):
    """A phone's call to a bot endpoint with `bot_settings`; the list gets each inbound
    call's end reason once it has ended."""
    reasons: list[str] = []

    async def inbound(call: SipCall) -> None:
        await call.ended.wait()
        reasons.append(call.end_reason)

    bot = await make_endpoint(inbound, **bot_settings)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    assert out.call is not None
    return reasons, bot, out.call


async def test_media_inactivity_ends_the_call_and_frees_the_slot(make_endpoint) -> None:
    ended, bot, call = await _call_to_a_bot(make_endpoint, media_inactivity=0.6)
    await call.media.close()  # the phone goes silent and never sends BYE
    await _wait(lambda: ended == ["media_timeout"] and bot.busy == 0 and not bot.ports.in_use)
    await _wait(lambda: call.ended.is_set())  # our BYE reached the phone


async def test_maximum_call_length(make_endpoint) -> None:
    reasons, bot, _ = await _call_to_a_bot(make_endpoint, max_call_seconds=0.5)
    await _wait(lambda: reasons == ["max_length"] and bot.busy == 0)


async def test_unreachable_peer_times_out_as_no_answer(make_endpoint) -> None:
    from sip_peers import free_udp_port

    phone = await make_endpoint(ring_timeout=0.5)
    out = await phone.dial(f"sip:nobody@127.0.0.1:{free_udp_port()}")
    assert out.call is None and out.status == 408
    assert outcome_for(out.status) is NetworkOutcome.NO_ANSWER
    assert phone.busy == 0 and not phone.ports.in_use


async def test_options_health_check_says_503_at_capacity(make_endpoint) -> None:
    import socket

    async def inbound(call: SipCall) -> None:
        await call.ended.wait()

    bot = await make_endpoint(inbound, capacity=1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)

    async def ping(n: int) -> bytes:
        port = sock.getsockname()[1]
        sock.sendto((
            "OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bKping{n}\r\n"
            "From: <sip:lb@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\n"
            f"Call-ID: ping-{n}\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode(), bot.local_addr)
        for _ in range(100):
            await asyncio.sleep(0.02)
            try:
                return sock.recv(4096)
            except BlockingIOError:
                pass
        raise AssertionError("no reply")

    try:
        assert (await ping(1)).startswith(b"SIP/2.0 200")
        phone = await make_endpoint()
        out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
        reply = await ping(2)
        assert reply.startswith(b"SIP/2.0 503") and b"Retry-After" in reply
        out.call.hangup()
        await _wait(lambda: bot.busy == 0)
        assert (await ping(3)).startswith(b"SIP/2.0 200")
    finally:
        sock.close()


async def test_no_rtp_is_sent_after_the_far_end_hangs_up(make_endpoint) -> None:
    held = asyncio.Event()

    async def inbound(call: SipCall) -> None:
        call.media.play(b"\x00\x10" * 80000)  # 10 s queued
        await call.ended.wait()
        held.set()
        await asyncio.sleep(1.0)  # the handler lingers: the stream must stay quiet meanwhile

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    await asyncio.sleep(0.3)
    bot_call = next(iter(bot.calls.values()))
    out.call.hangup()
    await asyncio.wait_for(held.wait(), 3)
    sent = bot_call.media.stats.sent
    await asyncio.sleep(0.5)
    assert bot_call.media.stats.sent == sent and not bot_call.media.closed


async def test_a_bare_number_without_a_trunk_is_a_clear_failure(make_endpoint) -> None:
    phone = await make_endpoint()
    out = await phone.dial("+8613812345678")
    assert out.call is None and out.status is None and "trunk" in out.reason
    assert outcome_for(out.status) is NetworkOutcome.FAILED and phone.busy == 0


async def test_reinvite_from_the_far_end_is_answered_and_can_move_the_media(make_endpoint) -> None:
    from bot.telephony.sip import sdp

    heard = bytearray()

    async def inbound(call: SipCall) -> None:
        call.media.play(b"\x00\x10" * 40000)
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    statuses = invite_statuses(phone)
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    call = out.call
    from bot.telephony.media.rtp_stream import MediaStream

    moved = MediaStream("127.0.0.1", phone.ports, on_audio=heard.extend)  # the phone moves its media
    await moved.open()
    try:
        dialog = phone.uac._calls[call.call_id].dialog
        phone.uac.send_reinvite(dialog, sdp.offer("127.0.0.1", moved.port, ("PCMU",)), out_remote(phone, call))
        await _wait(lambda: statuses.count(200) >= 2)  # the first 200, then the re-INVITE's
        moved.connect(call.media.peer, 0, 101)
        await _wait(lambda: len(heard) > 3200)  # the bot now sends to the new address
        assert not call.ended.is_set() and bot.busy == 1
    finally:
        await moved.close()


def out_remote(endpoint, call) -> tuple[str, int]:
    return endpoint.uac._calls[call.call_id].remote_addr
