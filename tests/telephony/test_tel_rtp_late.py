"""Frames sent late on the line are counted per stream (`stats.late`): admission control's third
sign. A loop blocked for 150 ms makes the 20 ms clock miss its slots, and the stream counts them."""

from __future__ import annotations

import asyncio
import socket
import time

from audio import g711
from bot.telephony.media.rtp_stream import MediaStream, PortPool


def _block(seconds: float) -> None:
    time.sleep(seconds)  # the event loop's thread busy, as under a CPU-heavy neighbour


async def test_a_blocked_loop_shows_as_late_frames() -> None:
    stream = MediaStream("127.0.0.1", PortPool(39200, 39298))
    await stream.open()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    try:
        stream.connect(peer.getsockname(), g711.PT_PCMU, None)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if stream.stats.sent >= 3:
                break
        before = stream.stats.late
        asyncio.get_running_loop().call_soon(_block, 0.15)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if stream.stats.late > before:
                break
        assert stream.stats.late > before
    finally:
        peer.close()
        await stream.close()
