"""One call's RTP media: a UDP port, a steady 20 ms send clock (silence while the bot is
quiet), G.711 both ways, RFC 4733 DTMF both ways, media only from the negotiated peer,
and a media-inactivity timer. Pure asyncio; no pipecat here (see pipecat_transport.py).
The 20 ms ticks come from the worker's one media clock (clock.py), shared by every call."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from audio import g711
from bot.telephony.media.clock import TICK, MediaClock, clock_for
from bot.telephony.media.rtp import DTMF_EVENTS, RTP_HEADER, DtmfEvent, parse_dtmf, parse_rtp

log = logging.getLogger(__name__)

FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
SILENT_FRAME = bytes(FRAME_BYTES)
DTMF_TICKS = 5  # 100 ms tone, then 3 end packets
_G711 = (g711.PT_PCMU, g711.PT_PCMA)
__all__ = ["FRAME_BYTES", "FRAME_SAMPLES", "TICK", "MediaStats", "MediaStream", "PortPool"]


@functools.lru_cache(maxsize=4)
def _silent_payload(payload_type: int) -> bytes:
    """A quiet frame's payload, encoded once per codec (the bot is silent most of a call)."""
    return g711.silence(payload_type, FRAME_SAMPLES)


class PortPool:
    """Even RTP ports from a configured range; a port is reused only after release."""

    def __init__(self, low: int, high: int) -> None:
        self._free: deque[int] = deque(p for p in range(low + (low % 2), high, 2))
        self.in_use: set[int] = set()

    def take(self) -> int:
        if not self._free:
            raise OSError("no free RTP port in the configured range")
        port = self._free.popleft()
        self.in_use.add(port)
        return port

    def release(self, port: int) -> None:
        if port in self.in_use:
            self.in_use.discard(port)
            self._free.append(port)


@dataclass
class MediaStats:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    foreign: int = 0
    unknown_payload: int = 0
    dtmf_received: int = 0
    late: int = 0  # frames sent more than one frame after their slot (the loop was busy): admission control


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, stream: MediaStream) -> None:
        self.stream = stream

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.stream._on_datagram(data, addr if len(addr) == 2 else (addr[0], addr[1]))  # IPv6: 4-tuple

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp socket error: %s", exc)


class MediaStream:
    """RTP for one call. `open()` binds (before the offer/answer is sent), `connect()` sets the
    negotiated peer and starts the clock, `close()` frees everything."""

    def __init__(
        self,
        host: str,
        ports: PortPool,
        *,
        inactivity: float = 15.0,
        on_audio: Callable[[bytes], None] | None = None,
        on_dtmf: Callable[[str], None] | None = None,
        on_inactive: Callable[[], None] | None = None,
    ) -> None:
        self.host = host
        self.ports = ports
        self.port = 0
        self.inactivity = inactivity
        self.on_audio = on_audio
        self.on_dtmf = on_dtmf
        self.on_inactive = on_inactive
        self.on_sent: Callable[[bytes], None] | None = None  # each 20 ms of audio sent (the call's recording)
        self.peer: tuple[str, int] | None = None
        self.payload_type = g711.PT_PCMU
        self.dtmf_payload_type: int | None = 101
        self.stats = MediaStats()
        self._transport: asyncio.DatagramTransport | None = None
        self._clock: MediaClock | None = None  # the worker's clock, while this stream is on it
        self._out = bytearray()
        self.audio_sent = 0  # bytes of queued (played) audio sent so far; padding not counted
        self._dtmf_out: deque[str] = deque()
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._last_dtmf_ts: int | None = None
        self._dtmf_digit: str | None = None  # the digit being sent, its tick and timestamp
        self._dtmf_tick = 0
        self._dtmf_ts = 0
        self._last_rx = time.monotonic()
        self._drained = asyncio.Event()
        self._drained.set()
        self._tick = asyncio.Event()
        self.closed = False
        self.sending = True

    # ------------------------------------------------------------- life cycle
    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        for _ in range(len(self.ports._free) + 1):
            port = self.ports.take()
            try:
                self._transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self), local_addr=(self.host, port)
                )
            except OSError:
                self.ports.release(port)  # taken by someone else: try the next one
                continue
            self.port = port
            return port
        raise OSError("no bindable RTP port in the configured range")

    def connect(self, peer: tuple[str, int], payload_type: int, dtmf_payload_type: int | None) -> None:
        self.peer = peer
        self.payload_type = payload_type
        self.dtmf_payload_type = dtmf_payload_type
        self._last_rx = time.monotonic()
        if self._clock is None and not self.closed:
            self._clock = clock_for()
            self._clock.add(self)

    def stop_sending(self) -> None:
        """The far end is gone: send nothing more (the port stays bound until close())."""
        self.sending = False
        self.clear()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._clock is not None:
            self._clock.remove(self)
            self._clock = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self.ports.release(self.port)
        self._drained.set()
        self._tick.set()

    # ------------------------------------------------------------- sending
    def play(self, pcm: bytes) -> None:
        """Queue 8 kHz 16-bit mono PCM; it goes out on the 20 ms clock."""
        if pcm and self.sending:
            self._out += pcm
            self._drained.clear()

    def clear(self) -> None:
        """Barge-in: drop what has not been sent yet."""
        self._out.clear()
        self._drained.set()

    @property
    def queued_seconds(self) -> float:
        return len(self._out) / (2 * 8000)

    async def drained(self) -> None:
        await self._drained.wait()

    async def wait_queue_below(self, seconds: float) -> None:
        """Pace a producer: return once at most `seconds` of audio wait to be sent."""
        while self.queued_seconds > seconds and not self.closed:
            self._tick.clear()
            await self._tick.wait()

    def send_dtmf(self, digits: str) -> None:
        for d in digits:
            if d not in DTMF_EVENTS:
                raise ValueError(f"not a DTMF digit: {d!r}")
            self._dtmf_out.append(d)

    def _send(self, pt: int, payload: bytes, ts: int, marker: bool = False) -> None:
        if self._transport is None or self.peer is None or not self.sending:
            return
        self._seq = seq = (self._seq + 1) & 0xFFFF
        head = RTP_HEADER.pack(0x80, (0x80 if marker else 0) | (pt & 0x7F), seq, ts, self._ssrc)
        # no packet object: this runs 50 times a second a call. transport.sendto rather than the raw
        # socket: 1.2 of 4.8 µs a packet in benchmarks/rtp_bench.py, not measurable for 100 streams
        # (benchmarks/stream_bench.py: 0.052 CPU s per call-minute both ways)
        self._transport.sendto(head + payload, self.peer)
        self.stats.sent += 1

    def _clock_frame(self, late: bool, now: float) -> None:
        """One 20 ms tick of this line (from the worker's MediaClock): a DTMF packet, else the
        next 20 ms of queued audio, else silence."""
        if late:
            self.stats.late += 1
        self._ts = (self._ts + FRAME_SAMPLES) & 0xFFFFFFFF
        if self._dtmf_digit is None and self._dtmf_out and self.dtmf_payload_type is not None:
            self._dtmf_digit, self._dtmf_tick, self._dtmf_ts = self._dtmf_out.popleft(), 0, self._ts
        live = self.peer is not None and self.sending
        if self._dtmf_digit is not None:
            self._dtmf_tick = tick = self._dtmf_tick + 1
            ev = DtmfEvent(self._dtmf_digit, tick > DTMF_TICKS, 10, min(tick, DTMF_TICKS + 1) * FRAME_SAMPLES)
            assert self.dtmf_payload_type is not None
            self._send(self.dtmf_payload_type, ev.to_bytes(), self._dtmf_ts, marker=tick == 1)
            if tick >= DTMF_TICKS + 3:
                self._dtmf_digit = None
        else:
            out = self._out
            if out:
                chunk = bytes(out[:FRAME_BYTES])
                del out[:FRAME_BYTES]
                if live:
                    self.audio_sent += len(chunk)  # played audio that left on the line (evidence times)
                if len(chunk) < FRAME_BYTES:
                    chunk += SILENT_FRAME[len(chunk):]
                payload = g711.encode(chunk, self.payload_type)
            else:
                chunk, payload = SILENT_FRAME, _silent_payload(self.payload_type)
            if self.on_sent is not None and live:
                self.on_sent(chunk)
            self._send(self.payload_type, payload, self._ts)
        if not self._out:
            self._drained.set()
        self._tick.set()
        if self.inactivity and now - self._last_rx > self.inactivity:
            log.info("rtp port %d: no media for %.0f s", self.port, self.inactivity)
            self.inactivity = 0
            if self.on_inactive:
                self.on_inactive()

    # ------------------------------------------------------------- receiving
    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.peer is None or addr != self.peer:
            self.stats.foreign += 1
            return
        if len(data) > 12 and data[0] == 0x80 and (data[1] & 0x7F) in _G711:
            # the common packet (RTP v2, no padding, extension or CSRCs; PCMU/PCMA): no parse object
            self.stats.received += 1
            self._last_rx = time.monotonic()
            self._heard(g711.decode(data[12:], data[1] & 0x7F))
            return
        try:
            pkt = parse_rtp(data)
        except ValueError:
            self.stats.malformed += 1
            return
        self.stats.received += 1
        self._last_rx = time.monotonic()
        if pkt.payload_type in _G711:
            self._heard(g711.decode(pkt.payload, pkt.payload_type))
        elif pkt.payload_type == self.dtmf_payload_type:
            try:
                ev = parse_dtmf(pkt.payload)
            except ValueError:
                self.stats.malformed += 1
                return
            if pkt.timestamp != self._last_dtmf_ts:  # one report per event, not per packet
                self._last_dtmf_ts = pkt.timestamp
                self._keyed(ev.digit)
        else:
            self.stats.unknown_payload += 1

    def _heard(self, pcm: bytes) -> None:
        """20 ms (or what the packet held) of the caller's audio, decoded."""
        if self.on_audio:
            self.on_audio(pcm)

    def _keyed(self, digit: str) -> None:
        """A new RFC 4733 key event from the caller (reported once, not per packet)."""
        self.stats.dtmf_received += 1
        if self.on_dtmf:
            self.on_dtmf(digit)
