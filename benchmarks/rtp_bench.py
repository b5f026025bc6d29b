"""CPU per RTP packet: veribot's own packet/DTMF/port code (bot/telephony/media/rtp.py, media.PortPool)
against aiortp 0.8.0's pieces (RtpPacket, DtmfEvent, PortAllocator), to decide whether to adopt
aiortp (issue 10). Rounds alternate between all cases (a loaded machine slows them alike);
each figure is a case's best round, in µs per operation.

Run:  .venv/bin/python benchmarks/rtp_bench.py [--n 20000] [--rounds 7]
Needs aiortp installed (`pip install aiortp==0.8.0`) only for the comparison."""

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
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for what, who, (fn, count, *is_async) in rows:
            us = (timed_async if is_async else timed)(fn, count)
            best[what, who] = min(best.get((what, who), float("inf")), us)
    width = max(len(r[0]) for r in rows)
    for what in dict.fromkeys(r[0] for r in rows):
        figures = "  ".join(f"{who}={us:7.2f} µs" for (w, who), us in best.items() if w == what)
        print(f"{what:{width}s}  {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
