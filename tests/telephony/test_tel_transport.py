"""The pipecat transport over a real SIP/RTP call, with a trivial echo pipeline standing
in for the speech pipeline: audio and DTMF in, audio and DTMF out, barge-in clears unsent
audio, EndFrame sends what is queued then hangs up, a far-end BYE ends the pipeline."""

from __future__ import annotations

import asyncio

from echo_pipeline import KeyEcho, loud_frames, run_pipeline

from bot.telephony.media.pipecat_transport import RtpCallTransport
from bot.telephony.sip.call import SipCall


async def _run(call: SipCall, echo: KeyEcho) -> None:
    await run_pipeline(RtpCallTransport(call), echo)


async def _call_the_echo(make_endpoint):
    """An echo pipeline behind one endpoint, called from another: (echo, done, bot, dialled)."""
    echo = KeyEcho()
    done = asyncio.Event()

    async def inbound(call: SipCall) -> None:
        await _run(call, echo)
        done.set()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    return echo, done, bot, out


async def test_echo_pipeline_over_rtp(make_endpoint) -> None:
    echo, done, bot, out = await _call_the_echo(make_endpoint)
    call = out.call
    heard = bytearray()
    keys: list[str] = []
    call.media.on_audio = heard.extend
    call.media.on_dtmf = keys.append
    await asyncio.sleep(0.3)
    call.media.send_dtmf("1")  # 3 s of tone starts
    await asyncio.sleep(1.0)
    call.media.send_dtmf("2")  # barge-in: the rest must never arrive
    await asyncio.sleep(2.5)  # past the end of the 3 s tone, had it played on
    loud_before_end = loud_frames(heard)
    call.media.send_dtmf("#")  # goodbye tone, then the bot hangs up
    await asyncio.wait_for(call.ended.wait(), 10)
    await asyncio.wait_for(done.wait(), 10)
    loud = loud_frames(heard)
    assert echo.keys == ["1", "2", "#"]
    assert echo.audio_in > 8000  # the phone's RTP reached the pipeline as InputAudioRawFrames
    assert 20 <= loud_before_end <= 110  # ~1.1 s of the 3 s tone (150 frames): the rest was dropped
    assert 45 <= loud - loud_before_end <= 55  # the whole goodbye second arrived before the BYE
    assert keys == ["#"]  # DTMF out as RFC 4733
    assert call.end_reason == "remote_bye"
    await asyncio.sleep(0.1)
    assert bot.busy == 0 and not bot.ports.in_use


async def test_far_end_hangup_ends_the_pipeline(make_endpoint) -> None:
    echo, done, bot, out = await _call_the_echo(make_endpoint)
    await asyncio.sleep(0.5)
    out.call.hangup()
    await asyncio.wait_for(done.wait(), 5)
    assert echo.hangup_seen
    await asyncio.sleep(0.1)
    assert bot.busy == 0 and not bot.ports.in_use


async def test_caller_audio_can_be_pushed_in_longer_chunks(make_endpoint) -> None:
    echo = KeyEcho()

    async def inbound(call: SipCall) -> None:
        await run_pipeline(RtpCallTransport(call, input_chunk_ms=60), echo)

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:bot@127.0.0.1:{bot.local_addr[1]}")
    await asyncio.sleep(0.8)
    out.call.hangup()
    for _ in range(150):
        if bot.busy == 0:
            break
        await asyncio.sleep(0.02)
    assert echo.chunk_sizes == {960}  # 60 ms of 8 kHz 16-bit audio per frame
    assert echo.audio_in >= 960 * 5
