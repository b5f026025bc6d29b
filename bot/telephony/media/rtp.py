"""RTP packets (RFC 3550) and RFC 4733 telephone-events: strict parsing, plain building.

Parsers check every length and raise ValueError with a precise message; the media
stream drops and counts bad packets, and the call carries on.

Own code rather than aiortp 0.8's RtpPacket/DtmfEvent/PortAllocator (issue 10, measured by
benchmarks/rtp_bench.py on the 2-core VM): per packet ours costs 2.7 µs to parse and 2.0 µs
to build against aiortp's 4.6 and 4.2 (DTMF parse 5.5 vs 11.5 µs), a port 0.4 µs against
~50 µs (aiortp test-binds an RTP+RTCP pair on every interface per call); and aiortp accepts
RTCP payload types and non-DTMF events that we must reject, with less precise messages.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

DTMF_EVENTS = "0123456789*#ABCD"
_DTMF_CODE = {d: i for i, d in enumerate(DTMF_EVENTS)}
RTP_HEADER = struct.Struct("!BBHII")
DTMF_PAYLOAD = struct.Struct("!BBH")


class RtpPacket(NamedTuple):  # a NamedTuple: immutable, and built ~2x faster than a frozen dataclass
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        head = RTP_HEADER.pack(
            0x80,
            (0x80 if self.marker else 0) | (self.payload_type & 0x7F),
            self.sequence & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc & 0xFFFFFFFF,
        )
        return head + self.payload


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP packet; ValueError names what is wrong."""
    if len(data) < 12:
        raise ValueError(f"RTP packet too short: {len(data)} bytes, header needs 12")
    b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
    version = b0 >> 6
    if version != 2:
        raise ValueError(f"RTP version {version}, expected 2")
    pt = b1 & 0x7F
    if 72 <= pt <= 76:
        raise ValueError(f"payload type {pt} is RTCP, not RTP")
    pos = 12 + 4 * (b0 & 0x0F)
    if len(data) < pos:
        raise ValueError(f"CSRC count {b0 & 0x0F} needs {pos} bytes, packet has {len(data)}")
    if b0 & 0x10:
        if len(data) < pos + 4:
            raise ValueError(f"extension header needs {pos + 4} bytes, packet has {len(data)}")
        (ext_words,) = struct.unpack_from("!H", data, pos + 2)
        pos += 4 + 4 * ext_words
        if len(data) < pos:
            raise ValueError(f"extension of {ext_words} words needs {pos} bytes, packet has {len(data)}")
    end = len(data)
    if b0 & 0x20:
        if end == pos:
            raise ValueError("padding bit set but no padding byte")
        pad = data[-1]
        if pad == 0 or pos + pad > end:
            raise ValueError(f"padding length {pad} invalid for {end - pos} payload bytes")
        end -= pad
    return RtpPacket(pt, seq, ts, ssrc, bytes(data[pos:end]), bool(b1 & 0x80))


class DtmfEvent(NamedTuple):
    digit: str
    end: bool
    volume: int
    duration: int  # in timestamp units (8 kHz samples)

    def to_bytes(self) -> bytes:
        return DTMF_PAYLOAD.pack(
            _DTMF_CODE[self.digit],
            (0x80 if self.end else 0) | (self.volume & 0x3F),
            self.duration & 0xFFFF,
        )


def parse_dtmf(payload: bytes) -> DtmfEvent:
    if len(payload) < 4:
        raise ValueError(f"telephone-event payload too short: {len(payload)} bytes, needs 4")
    event, flags, duration = DTMF_PAYLOAD.unpack_from(payload)
    if event >= len(DTMF_EVENTS):
        raise ValueError(f"telephone-event {event} is not a DTMF digit")
    return DtmfEvent(DTMF_EVENTS[event], bool(flags & 0x80), flags & 0x3F, duration)
