"""Write a pcap of G.711 RTP (speech) plus RFC 4733 telephone-events, as SIPp's
`play_pcap_audio` replays it: the load tests' and benchmark's caller audio."""

from __future__ import annotations

import struct
from pathlib import Path

from audio import g711
from bot.telephony.media.rtp import DtmfEvent, RtpPacket
from bot.telephony.media.rtp_stream import FRAME_BYTES, FRAME_SAMPLES

SRC = ("127.0.0.1", 6000)
DST = ("127.0.0.1", 6002)


def _ip(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def _frame(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", SRC[1], DST[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, _ip(SRC[0]), _ip(DST[0]))
    return b"\x00" * 12 + b"\x08\x00" + ip + udp  # Ethernet II, IPv4, UDP


def rtp_packets(segments: list[bytes | str], payload_type: int = g711.PT_PCMU, dtmf_pt: int = 101) -> list[bytes]:
    """Segments: 8 kHz PCM bytes (speech or silence) or a string of DTMF digits."""
    out: list[bytes] = []
    seq, ts, ssrc = 1, 0, 0x5EED
    for seg in segments:
        if isinstance(seg, str):
            for digit in seg:
                for i in range(1, 9):
                    ev = DtmfEvent(digit, i > 5, 10, min(i, 6) * FRAME_SAMPLES)
                    out.append(RtpPacket(dtmf_pt, seq, ts, ssrc, ev.to_bytes(), marker=i == 1).to_bytes())
                    seq += 1
                ts += 8 * FRAME_SAMPLES
                for _ in range(5):  # 100 ms of silence between digits
                    out.append(RtpPacket(payload_type, seq, ts, ssrc, g711.silence(payload_type)).to_bytes())
                    seq, ts = seq + 1, ts + FRAME_SAMPLES
            continue
        for i in range(0, len(seg), FRAME_BYTES):
            chunk = seg[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00")
            out.append(RtpPacket(payload_type, seq, ts, ssrc, g711.encode(chunk, payload_type)).to_bytes())
            seq, ts = seq + 1, ts + FRAME_SAMPLES
    return out


def write_pcap(path: str | Path, packets: list[bytes]) -> Path:
    """One packet every 20 ms (DTMF packets too, as a phone sends them)."""
    path = Path(path)
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, pkt in enumerate(packets):
            frame = _frame(pkt)
            usec = i * 20_000
            fh.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            fh.write(frame)
    return path
