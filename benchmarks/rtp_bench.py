"""CPU per RTP packet: veribot's own packet/DTMF/port code (bot/telephony/media/rtp.py, media.PortPool)
against aiortp 0.8.0's pieces (RtpPacket, DtmfEvent, PortAllocator), to decide whether to adopt
aiortp (issue 10). Rounds alternate between all cases (a loaded machine slows them alike);
each figure is a case's best round, in µs per operation.

Run:  .venv/bin/python benchmarks/rtp_bench.py [--n 20000] [--rounds 7]
Needs aiortp installed (`pip install aiortp==0.8.0`) only for the comparison.

Issue 23 (the wire's time): `--streams 100 --seconds 10` also runs that many real MediaStreams in
pairs on loopback (each sends its 20 ms frames to its partner and decodes the partner's) for the
window, driven by a task per stream (the old design) and by the worker's one MediaClock, and
prints the CPU seconds per call-minute of each (`--uvloop`: on uvloop's loop as well)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from machine_info import describe

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def timed(fn, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def timed_async(fn, n: int) -> float:
    async def run() -> float:
        t = time.perf_counter()
        for _ in range(n):
            await fn()
        return (time.perf_counter() - t) / n * 1e6

    return asyncio.run(run())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000, help="operations per case per round")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--streams", type=int, default=0, help="also drive this many RTP streams (pairs on loopback)")
    ap.add_argument("--seconds", type=float, default=10.0, help="window of each --streams run")
    ap.add_argument("--uvloop", action="store_true", help="--streams runs on uvloop as well")
    args = ap.parse_args()
    n = args.n

    from bot.telephony.media import rtp
    from bot.telephony.media.rtp_stream import PortPool

    print(describe())
    payload = bytes(range(160))
    ours_pkt = rtp.RtpPacket(0, 1234, 567890, 0x5EED, payload, False)
    wire = ours_pkt.to_bytes()
    ours_ev = rtp.DtmfEvent("5", False, 10, 480)
    ev_wire = ours_ev.to_bytes()
    rows = [
        ("RTP parse (172-byte PCMU)", "ours", (lambda: rtp.parse_rtp(wire), n)),
        ("RTP build", "ours", (lambda: rtp.RtpPacket(0, 1234, 567890, 0x5EED, payload).to_bytes(), n)),
        ("DTMF parse (RTP + event)", "ours", (lambda: rtp.parse_dtmf(rtp.parse_rtp(
            rtp.RtpPacket(101, 1, 2, 3, ev_wire).to_bytes()).payload), n)),
        ("DTMF build (event + RTP)", "ours", (lambda: rtp.RtpPacket(101, 1, 2, 3, ours_ev.to_bytes()).to_bytes(), n)),
    ]
    pool = PortPool(40000, 40100)

    def take_release() -> None:
        pool.release(pool.take())

    rows.append(("port take + release", "ours", (take_release, n)))
    try:
        from aiortp.dtmf import DtmfEvent as AEvent
        from aiortp.packet import RtpPacket as APacket
        from aiortp.port_allocator import PortAllocator
    except ImportError:
        print("aiortp not installed: only our figures")
    else:
        a_ev = AEvent(event=5, end=False, volume=10, duration=480)
        rows += [
            ("RTP parse (172-byte PCMU)", "aiortp", (lambda: APacket.parse(wire), n)),
            ("RTP build", "aiortp", (lambda: APacket(payload_type=0, sequence_number=1234, timestamp=567890,
                                                           ssrc=0x5EED, payload=payload).serialize(), n)),
            ("DTMF parse (RTP + event)", "aiortp", (lambda: AEvent.parse(APacket.parse(
                APacket(payload_type=101, sequence_number=1, timestamp=2, ssrc=3,
                        payload=ev_wire).serialize()).payload), n)),
            ("DTMF build (event + RTP)", "aiortp", (lambda: APacket(
                payload_type=101, sequence_number=1, timestamp=2, ssrc=3, payload=a_ev.serialize()).serialize(), n)),
        ]
        allocator = PortAllocator((40200, 40300))

        async def allocate_release() -> None:
            port, _ = await allocator.allocate()
            await allocator.release(port)

        rows.append(("port take + release", "aiortp", (allocate_release, max(1, n // 50), "async")))
    rows += packet_rows(n)
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for what, who, (fn, count, *is_async) in rows:
            us = (timed_async if is_async else timed)(fn, count)
            best[what, who] = min(best.get((what, who), float("inf")), us)
    width = max(len(r[0]) for r in rows)
    for what in dict.fromkeys(r[0] for r in rows):
        figures = "  ".join(f"{who}={us:7.2f} µs" for (w, who), us in best.items() if w == what)
        print(f"{what:{width}s}  {figures}")
    if args.streams:
        from stream_bench import drive

        for mode in ("tasks", "clock"):
            for loop_kind in ("asyncio", "uvloop") if args.uvloop else ("asyncio",):
                print(drive(args.streams, args.seconds, mode, loop_kind), flush=True)
    return 0


def packet_rows(n: int) -> list:
    """Per-packet paths of the media stream, before and after issue 23 (µs each)."""
    import socket

    from audio import g711
    from bot.telephony.media import rtp

    payload, pcm = bytes(range(160)), bytes(320)
    wire = rtp.RtpPacket(0, 1234, 567890, 0x5EED, payload, False).to_bytes()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.setblocking(False)
    dest = sink.getsockname()
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)

    def drain() -> None:
        sink.setblocking(False)
        try:
            while True:
                sink.recv(2048)
        except BlockingIOError:
            pass

    def raw_send() -> None:
        out.sendto(wire, dest)

    import asyncio

    loop = asyncio.new_event_loop()
    transport, _ = loop.run_until_complete(loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                                         local_addr=("127.0.0.1", 0)))

    def transport_send() -> None:
        transport.sendto(wire, dest)

    def fast_rx() -> bytes:
        return g711.decode(wire[12:], wire[1] & 0x7F) if wire[0] == 0x80 else b""

    return [
        ("frame out (build)", "packet object", (lambda: rtp.RtpPacket(0, 1, 2, 3, payload, False).to_bytes(), n)),
        ("frame out (build)", "header pack", (lambda: rtp.RTP_HEADER.pack(0x80, 0, 1, 2, 3) + payload, n)),
        ("silent frame payload", "encode", (lambda: g711.encode(pcm, 0), n)),
        ("frame in (parse + decode)", "parse_rtp", (lambda: g711.decode(rtp.parse_rtp(wire).payload, 0), n)),
        ("frame in (parse + decode)", "fast path", (fast_rx, n)),
        ("sendto loopback (drained)", "socket", (lambda: (raw_send(), drain()), n // 4)),
        ("sendto loopback (drained)", "transport", (lambda: (transport_send(), drain()), n // 4)),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
