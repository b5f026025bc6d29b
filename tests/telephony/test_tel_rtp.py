"""RTP parsing and the media stream: bad packets are dropped and counted, audio goes on."""

from __future__ import annotations

import asyncio
import os
import random
import socket

import numpy as np
import pytest

from audio import g711
from bot.telephony.media.rtp import DtmfEvent, RtpPacket, parse_dtmf, parse_rtp
from bot.telephony.media.rtp_stream import MediaStream, PortPool

GOOD = RtpPacket(0, 1000, 160_000, 0x1234, bytes(range(160)), marker=True).to_bytes()


def test_round_trip() -> None:
    p = parse_rtp(GOOD)
    assert (p.payload_type, p.sequence, p.timestamp, p.ssrc, p.marker) == (0, 1000, 160_000, 0x1234, True)
    assert p.payload == bytes(range(160))


@pytest.mark.parametrize("cut", range(12))
def test_truncated_header_is_rejected(cut: int) -> None:
    with pytest.raises(ValueError, match="too short"):
        parse_rtp(GOOD[:cut])


def test_truncated_at_every_length_never_raises_anything_but_valueerror() -> None:
    ext = bytearray(GOOD)
    ext[0] |= 0x10 | 0x20 | 0x03  # extension + padding + 3 CSRCs
    for packet in (GOOD, bytes(ext)):
        for cut in range(len(packet) + 1):
            try:
                parse_rtp(packet[:cut])
            except ValueError:
                pass


def test_bad_version_and_lying_csrc_count() -> None:
    with pytest.raises(ValueError, match="version 1"):
        parse_rtp(bytes([0x40]) + GOOD[1:])
    with pytest.raises(ValueError, match="CSRC count 15 needs 72 bytes"):
        parse_rtp(bytes([0x8F]) + GOOD[1:40])
    with pytest.raises(ValueError, match="padding length"):
        parse_rtp(bytes([0xA0]) + GOOD[1:-1] + b"\xff")


def test_dtmf_event() -> None:
    ev = DtmfEvent("#", True, 10, 800)
    assert parse_dtmf(ev.to_bytes()) == ev
    with pytest.raises(ValueError, match="too short"):
        parse_dtmf(b"\x01\x02")
    with pytest.raises(ValueError, match="not a DTMF digit"):
        parse_dtmf(b"\x20\x80\x00\xa0")


@pytest.mark.parametrize("pt", [g711.PT_PCMU, g711.PT_PCMA])
def test_g711_round_trip_is_close(pt: int) -> None:
    pcm = (np.sin(np.arange(1600) / 7) * 12000).astype("<i2")
    back = np.frombuffer(g711.decode(g711.encode(pcm.tobytes(), pt), pt), dtype="<i2")
    assert np.max(np.abs(back.astype(int) - pcm)) < 400
    assert np.all(np.sign(back[np.abs(pcm) > 500]) == np.sign(pcm[np.abs(pcm) > 500]))  # polarity kept


async def test_stream_drops_bad_and_foreign_packets_and_keeps_going() -> None:
    heard: list[bytes] = []
    keys: list[str] = []
    stream = MediaStream("127.0.0.1", PortPool(39000, 39100), on_audio=heard.append, on_dtmf=keys.append)
    await stream.open()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    stranger.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    try:
        stream.connect(peer.getsockname(), g711.PT_PCMU, 101)
        dest = ("127.0.0.1", stream.port)
        rng = random.Random(7)
        for cut in range(len(GOOD)):
            peer.sendto(GOOD[:cut], dest)  # every truncation
        for _ in range(50):
            peer.sendto(os.urandom(rng.randrange(1, 200)), dest)  # random bytes
        stranger.sendto(GOOD, dest)  # right shape, wrong source
        peer.sendto(RtpPacket(101, 5, 999, 1, DtmfEvent("7", False, 10, 160).to_bytes()).to_bytes(), dest)
        peer.sendto(RtpPacket(101, 6, 999, 1, DtmfEvent("7", True, 10, 800).to_bytes()).to_bytes(), dest)
        peer.sendto(GOOD, dest)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if keys and heard and stream.stats.foreign:
                break
        assert keys == ["7"]  # one event, reported once
        assert heard and heard[-1] == g711.decode(GOOD[12:], 0)
        assert stream.stats.foreign == 1
        assert stream.stats.malformed >= 12
        sent = 0
        for _ in range(50):
            await asyncio.sleep(0.02)
            try:
                while True:
                    parse_rtp(peer.recv(2048))
                    sent += 1
            except BlockingIOError:
                pass
            if sent >= 5:
                break
        assert sent >= 5  # our clock keeps sending (silence) through all of it
    finally:
        await stream.close()
        peer.close()
        stranger.close()
    assert stream.ports.in_use == set()
