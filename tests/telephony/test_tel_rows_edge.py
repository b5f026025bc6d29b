"""RELIABILITY.md rows (SIP / RTP edge, pipeline) that had no test of their own, over real
SIP/RTP and the Twilio media websocket on loopback: RTP from a stranger into a live call's port,
the media-inactivity timer freeing every resource, and a caller hanging up while the bot is
speaking (no "send after close")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket

import aiohttp
from echo_pipeline import KeyEcho, loud_frames, run_pipeline
from loguru import logger
from test_tel_twilio import _dtmf, _echo_call, _serve, _start

from audio import g711
from bot.telephony.media.pipecat_transport import RtpCallTransport
from bot.telephony.media.rtp import RtpPacket
from bot.telephony.sip.call import SipCall

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


@contextlib.contextmanager
def _problems(caplog):
    """Warnings and errors of the call: std logging, pipecat's loguru and the event loop's
    unhandled exceptions (where a "send after close" would surface)."""
    found: list[str] = []
    loop = asyncio.get_running_loop()
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: found.append(f"loop: {ctx.get('message')} {ctx.get('exception')!r}"))
    sink = logger.add(lambda m: found.append(f"loguru: {m.record['message']}"), level="WARNING")
    caplog.set_level(logging.DEBUG)
    try:
        yield found
    finally:
        logger.remove(sink)
        loop.set_exception_handler(old_handler)
    found += [f"{r.name}: {r.getMessage()}" for r in caplog.records
              if r.levelno >= logging.WARNING or "after close" in r.getMessage().lower()]


async def test_hang_up_while_the_bot_speaks_ends_the_pipeline_without_send_after_close(
    make_endpoint, caplog
) -> None:
    echo = KeyEcho()
    done = asyncio.Event()
    calls: list[SipCall] = []

    async def inbound(call: SipCall) -> None:
        calls.append(call)
        await run_pipeline(RtpCallTransport(call), echo)
        done.set()

    with _problems(caplog) as problems:
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
    assert problems == []


async def _twilio_hang_up_mid_prompt(caplog, say_stop: bool) -> tuple[KeyEcho, list[str]]:
    echo, done, on_call = _echo_call()
    runner, url = await _serve(on_call)
    try:
        with _problems(caplog) as problems:
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                await ws.send_str(json.dumps(_start()))
                await ws.send_str(_dtmf("1"))  # the bot starts 3 s of speech
                media = 0
                async for msg in ws:  # it is speaking
                    media += json.loads(msg.data)["event"] == "media"
                    if media >= 10:
                        break
                if say_stop:
                    await ws.send_str(json.dumps({"event": "stop", "streamSid": _start()["streamSid"],
                                                  "stop": {"callSid": "CA1"}}))
                await ws.close()  # the caller is gone: the socket closes while audio is still going out
            await asyncio.wait_for(done.wait(), 5)  # the pipeline ended within a few seconds
            await asyncio.sleep(0.5)  # anything sent after the close would be reported meanwhile
    finally:
        await runner.cleanup()
    return echo, problems


async def test_twilio_caller_gone_mid_prompt_ends_the_call_without_send_after_close(caplog) -> None:
    echo, problems = await _twilio_hang_up_mid_prompt(caplog, say_stop=False)
    assert echo.keys == ["1"]
    assert problems == []


async def test_twilio_stop_then_close_mid_prompt_ends_the_call_without_send_after_close(caplog) -> None:
    echo, problems = await _twilio_hang_up_mid_prompt(caplog, say_stop=True)
    assert echo.hangup_seen
    assert problems == []
