"""Real MediaStreams in pairs on loopback for a window: the CPU one worker spends on the wire
alone (20 ms frames out, the partner's frames in and decoded), driven by a task per stream (the
design before issue 23, its scheduling copied here) or by the loop's one MediaClock. Used by
`benchmarks/rtp_bench.py --streams N`; prints one line per run."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


async def _per_task_clock(stream) -> None:
    """The old MediaStream._run_clock's scheduling, driving the stream's frame work."""
    from bot.telephony.media.rtp_stream import TICK

    start, n = time.monotonic(), 0
    while not stream.closed:
        n += 1
        delay = start + n * TICK - time.monotonic()
        late = delay < -TICK
        if delay < -0.2:
            start, n = time.monotonic(), 0
        elif delay > 0:
            await asyncio.sleep(delay)
        stream._clock_frame(late, time.monotonic())


async def _run(n: int, seconds: float, mode: str) -> dict:
    from audio import g711
    from bot.telephony.media.rtp_stream import MediaStream, PortPool

    pool = PortPool(41000, 41000 + 2 * n + 40)
    streams = [MediaStream("127.0.0.1", pool, on_audio=lambda pcm: None) for _ in range(n - n % 2)]
    for s in streams:
        await s.open()
    tasks = []
    for i, s in enumerate(streams):
        peer = ("127.0.0.1", streams[i ^ 1].port)
        if mode == "clock":
            s.connect(peer, g711.PT_PCMU, 101)
        else:  # a task per stream: connect's bookkeeping without the shared clock
            s.peer, s.payload_type, s.dtmf_payload_type = peer, g711.PT_PCMU, 101
            tasks.append(asyncio.ensure_future(_per_task_clock(s)))
    lags: list[float] = []

    async def probe() -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)

    prober = asyncio.ensure_future(probe())
    c0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - c0, time.monotonic() - t0
    prober.cancel()
    for s in streams:
        await s.close()
    for t in tasks:
        await t
    lags.sort()
    return {"streams": len(streams), "cpu": cpu, "wall": wall,
            "sent": sum(s.stats.sent for s in streams), "received": sum(s.stats.received for s in streams),
            "late": sum(s.stats.late for s in streams), "lag_p99": lags[int(0.99 * (len(lags) - 1))] if lags else 0}


def drive(n: int, seconds: float, mode: str, loop_kind: str = "asyncio") -> str:
    if loop_kind == "uvloop":
        import uvloop

        r = uvloop.run(_run(n, seconds, mode))
    else:
        r = asyncio.run(_run(n, seconds, mode))
    per_call_minute = r["cpu"] / (r["streams"] * r["wall"] / 60)
    expected = r["streams"] * r["wall"] / 0.02
    return (f"{r['streams']} streams, {mode:5s} on {loop_kind:7s}: {100 * r['cpu'] / r['wall']:5.1f}% of a core, "
            f"{per_call_minute:.3f} CPU s per call-minute, sent {r['sent'] / expected:.1%} of slots, "
            f"received {r['received']}, late {r['late']}, loop lag p99 {r['lag_p99'] * 1000:.1f} ms")


if __name__ == "__main__":
    import argparse

    from machine_info import describe

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--mode", choices=["tasks", "clock"], action="append")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], action="append")
    a = ap.parse_args()
    print(describe(), flush=True)
    for mode in a.mode or ["tasks", "clock"]:
        for kind in a.loop or ["asyncio"]:
            print(drive(a.streams, a.seconds, mode, kind), flush=True)
