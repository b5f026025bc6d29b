"""The early-media listener's own rules, fast, on a real RTP socket with a stand-in recognizer
(the real voice and Whisper run in test_early_media.py): a 180 with SDP is heard as a 183 is;
a recognizer that fails leaves the call ringing (no outcome, no exception); SDP naming a media
address the policy refuses is not listened to."""

from __future__ import annotations

import asyncio
import os
import socket

import numpy as np
import pytest
from aiosipua import SipResponse

from bot.telephony.media.pcap import rtp_packets
from bot.telephony.media.rtp_stream import MediaStream, PortPool
from bot.telephony.sip.early_media import EarlyMedia, EarlyRule, is_tone

RULE = EarlyRule(min_speech=0.3, end_silence=0.2, settle_within=2.0)


def provisional(status: int, media_host: str, port: int) -> SipResponse:
    sdp = (f"v=0\r\no=c 1 1 IN IP4 {media_host}\r\ns=-\r\nc=IN IP4 {media_host}\r\nt=0 0\r\n"
           f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    reason = "Ringing" if status == 180 else "Session Progress"
    text = (f"SIP/2.0 {status} {reason}\r\nCall-ID: early-1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
    response = SipResponse.parse(text)
    assert isinstance(response, SipResponse)
    return response


def voice_like(seconds: float) -> bytes:
    """Loud broadband sound (not a tone): what the listener counts as voice."""
    return (np.random.default_rng(7).normal(0, 4000, int(8000 * seconds))).clip(-32000, 32000).astype("<i2").tobytes()


async def _listen(transcribe, status: int = 180, allowed=lambda host: True) -> tuple[EarlyMedia, MediaStream]:
    base = 44000 + (os.getpid() % 500) * 20  # a bind that fails moves on to the next port
    media = MediaStream("127.0.0.1", PortPool(base, base + 20))
    await media.open()
    carrier = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    carrier.bind(("127.0.0.1", 0))
    early = EarlyMedia(media, ("PCMU",), allowed, transcribe, "zh-CN", RULE)
    early.provisional(provisional(status, "127.0.0.1", carrier.getsockname()[1]))
    for pkt in rtp_packets([voice_like(0.6)]):  # then no more RTP: the utterance has ended
        carrier.sendto(pkt, ("127.0.0.1", media.port))
        await asyncio.sleep(0.002)
    carrier.close()
    return early, media


@pytest.mark.parametrize("status", [180, 183])
async def test_an_18x_with_sdp_is_heard_and_its_words_give_the_outcome(status) -> None:
    heard: list[bytes] = []

    def ear(pcm: bytes, locale: str) -> str:
        heard.append(pcm)
        return "您拨打的用户已关机，请稍后再拨。"

    early, media = await _listen(ear, status)
    try:
        assert await asyncio.wait_for(early.outcome, 3) == "powered_off"
        assert len(heard) == 1 and len(heard[0]) >= 0.5 * 16000  # the utterance, heard once
        assert media.stats.sent == 0  # receive only: nothing goes to a line nobody answered
    finally:
        early.stop()
        await media.close()


async def test_a_failing_recognizer_leaves_the_call_ringing() -> None:
    def ear(pcm: bytes, locale: str) -> str:
        raise RuntimeError("model gone")

    early, media = await _listen(ear)
    try:
        await asyncio.sleep(0.6)
        assert await early.settle() is None and not early.outcome.done()
        assert early.transcriptions == 1
    finally:
        early.stop()
        await media.close()


async def test_sdp_outside_the_media_policy_is_not_listened_to() -> None:
    asked: list[bytes] = []
    early, media = await _listen(lambda pcm, locale: asked.append(pcm) or "您拨打的用户已关机", allowed=lambda host: False)
    try:
        await asyncio.sleep(0.6)
        assert await early.settle() is None and not asked and media.peer is None
    finally:
        early.stop()
        await media.close()


async def test_a_long_ringback_is_not_kept() -> None:
    media = MediaStream("127.0.0.1", PortPool(1, 2))  # never opened: the audio is fed as RTP would
    early = EarlyMedia(media, ("PCMU",), lambda host: True, None, "zh-CN", RULE)
    tone = (np.sin(2 * np.pi * 450 * np.arange(160) / 8000) * 5000).astype("<i2").tobytes()
    for _ in range(50 * 40):  # 40 s of ringback, 20 ms at a time
        early._on_audio(tone)
    assert len(early._pcm) <= 6 * 16000 and early._voiced == 0.0


def test_ringback_and_sit_are_tones_and_broadband_sound_is_not() -> None:
    t = np.arange(160) / 8000
    for freqs in ((450.0,), (425.0,), (440.0, 480.0), (913.8,), (1776.7,)):
        assert is_tone(sum(np.sin(2 * np.pi * f * t) for f in freqs) * 4000)
    assert not is_tone(np.frombuffer(voice_like(0.02), dtype="<i2").astype(np.float64))


def _sit() -> bytes:
    parts = [(913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)]
    return np.concatenate([np.sin(2 * np.pi * f * np.arange(int(8000 * d)) / 8000) * 6000
                           for f, d in parts]).astype("<i2").tobytes()


async def test_words_after_a_sit_still_coming_are_not_cut_off_by_the_tones_clock() -> None:
    """`after_sit` counts from the tone or the last voice: words that go on past it after the SIT
    (a long announcement, or late packets on a busy machine) are heard whole, not classified
    half-way (half the words match nothing, and a SIT alone would say `unreachable`)."""
    rule = EarlyRule(min_speech=0.3, end_silence=0.3, after_sit=0.4, settle_within=2.0)
    asked: list[float] = []

    def ear(pcm: bytes, locale: str) -> str:
        asked.append(len(pcm) / 16000)
        return "您拨打的用户正在通话中，请稍后再拨。" if len(pcm) >= 16000 else "您拨打的"

    media = MediaStream("127.0.0.1", PortPool(1, 1))  # never opened: the audio is handed in below
    early = EarlyMedia(media, ("PCMU",), lambda host: True, ear, "zh-CN", rule)
    watch = asyncio.ensure_future(early._run())
    try:
        sound = _sit() + voice_like(1.2)  # the words go on 1.2 s after the tone: past `after_sit`
        for i in range(0, len(sound), 320):
            early._on_audio(sound[i:i + 320])
            await asyncio.sleep(0.02)
        assert await asyncio.wait_for(early.outcome, 5) == "busy", asked
        assert len(asked) == 1 and asked[0] >= 1.0
    finally:
        watch.cancel()
        early.stop()
