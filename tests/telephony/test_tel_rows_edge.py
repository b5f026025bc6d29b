"""RELIABILITY.md rows (SIP / RTP edge, pipeline) that had no test of their own, over real
SIP/RTP on loopback: RTP from a stranger into a live call's port, the media-inactivity timer
freeing every resource, and a caller hanging up while the bot is speaking."""

from __future__ import annotations

import asyncio
import logging
import socket

from echo_pipeline import KeyEcho, loud_frames, run_pipeline

from audio import g711
from bot.telephony.rtp import RtpPacket
from bot.telephony.sip_call import SipCall
from bot.telephony.transport import RtpCallTransport

LOUD = b"\x00\x40\x00\xc0" * 80  # 160 samples, ~16000 amplitude


async def _wait(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _peak(pcm: bytes | bytearray) -> int:
    samples = memoryview(bytes(pcm)).cast("h")
    return max((abs(s) for s in samples), default=0)


async def test_rtp_from_a_foreign_address_into_a_live_call_is_ignored(make_endpoint) -> None:
    heard_by_bot = bytearray()

    async def inbound(call: SipCall) -> None:
        call.media.on_audio = heard_by_bot.extend
        await call.ended.wait()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    assert out.call is not None
    await _wait(lambda: len(bot.calls) == 1 and len(heard_by_bot) > 0)  # the phone's (silent) clock arrives
    bot_call = next(iter(bot.calls.values()))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        stranger.bind(("127.0.0.1", 0))
        loud = g711.encode(LOUD, g711.PT_PCMU)
        for seq in range(50):  # well-formed PCMU of the negotiated type, from the wrong address
            pkt = RtpPacket(g711.PT_PCMU, seq, seq * 160, 0x5EED, loud).to_bytes()
            stranger.sendto(pkt, ("127.0.0.1", bot_call.media.port))
        await _wait(lambda: bot_call.media.stats.foreign >= 50)
        await asyncio.sleep(0.1)
        assert _peak(heard_by_bot) < 1000  # none of the stranger's audio reached the call
        assert not bot_call.ended.is_set() and bot.busy == 1
        out.call.media.play(LOUD * 25)  # the negotiated peer is still heard (the test can fail)
        await _wait(lambda: _peak(heard_by_bot) > 10000)
    finally:
        stranger.close()
        out.call.hangup()
    await _wait(lambda: bot.busy == 0 and not bot.ports.in_use)


async def test_media_inactivity_frees_port_tasks_and_slot(make_endpoint) -> None:
    reasons: list[str] = []

    async def inbound(call: SipCall) -> None:
        await call.ended.wait()
        reasons.append(call.end_reason)

    bot = await make_endpoint(inbound, media_inactivity=0.6)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    assert out.call is not None
    await _wait(lambda: bot.busy == 1 and bot._tasks)
    await out.call.media.close()  # the phone goes silent and never sends BYE
    await _wait(lambda: reasons == ["media_timeout"])
    await _wait(lambda: bot.busy == 0 and not bot.ports.in_use and not bot._tasks and not bot.calls)
    await _wait(lambda: out.call.ended.is_set())  # our BYE reached the phone


async def test_hang_up_while_the_bot_speaks_ends_the_pipeline_without_send_after_close(
    make_endpoint, caplog
) -> None:
    loop = asyncio.get_running_loop()
    loop_errors: list[dict] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))
    echo = KeyEcho()
    done = asyncio.Event()
    calls: list[SipCall] = []

    async def inbound(call: SipCall) -> None:
        calls.append(call)
        await run_pipeline(RtpCallTransport(call), echo)
        done.set()

    caplog.set_level(logging.DEBUG)
    try:
        bot = await make_endpoint(inbound)
        phone = await make_endpoint()
        out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
        assert out.call is not None
        heard = bytearray()
        out.call.media.on_audio = heard.extend
        await asyncio.sleep(0.3)
        out.call.media.send_dtmf("1")  # the bot starts 3 s of speech
        await _wait(lambda: calls and calls[0].media.stats.sent > 0 and echo.keys == ["1"])
        await asyncio.sleep(0.5)
        assert 10 < loud_frames(heard) < 100  # mid-prompt: 0.2-2 s of the 3 s tone reached the phone
        out.call.hangup()
        await asyncio.wait_for(done.wait(), 5)  # the pipeline ended within a few seconds
        assert echo.hangup_seen and calls[0].end_reason == "remote_bye"
        sent = calls[0].media.stats.sent
        await asyncio.sleep(0.5)
        assert calls[0].media.stats.sent == sent  # nothing sent to a closed call
        await _wait(lambda: bot.busy == 0 and not bot.ports.in_use and not bot._tasks)
    finally:
        loop.set_exception_handler(old_handler)
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING
                or "after close" in r.getMessage().lower() or "closed" in r.getMessage().lower()]
    assert problems == [], [f"{r.name}: {r.getMessage()}" for r in problems]
    assert loop_errors == []
