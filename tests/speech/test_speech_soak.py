"""200 short calls in one process (4 at a time): memory flat, no task or file left behind."""

from __future__ import annotations

import asyncio
import gc
import os

import pytest

from bot.calls import CallRequest
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.run import run_call

pytestmark = [pytest.mark.asr, pytest.mark.slow]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_200_short_calls_rss_flat_nothing_left(speech, say_ko, short_script, tmp_path):
    yes = say_ko("네")
    outcomes: list[str] = []

    async def one(i: int) -> None:
        turns = [CallerTurn("speech", pcm=yes)] if i % 4 else [CallerTurn("dtmf", keys="1")]
        req = CallRequest(i, "", {"name": "김민수"}, short_script)
        rec = await run_call(LineTransport(turns), req, speech, audio_dir=tmp_path / str(i % 8))
        outcomes.append(f"{rec.outcome}:{rec.slots['identity']}")

    async def batch(first: int, count: int) -> None:
        for start in range(first, first + count, 4):
            await asyncio.gather(*(one(i) for i in range(start, start + 4)))

    await batch(0, 40)  # warm-up: caches, allocator pools, lazy imports
    gc.collect()
    base_rss, base_fds = rss_mb(), fds()
    growth = []
    for first in range(40, 200, 40):
        await batch(first, 40)
        gc.collect()
        growth.append(rss_mb() - base_rss)
    await asyncio.sleep(0.1)
    assert outcomes == ["completed:yes"] * 200
    # flat: the last 120 calls add almost nothing (the first batch after warm-up still
    # fills allocator arenas), and nothing like 160 calls' worth of state stays behind
    assert growth[-1] - growth[0] < 4, f"RSS per batch of 40 calls: {growth}"
    assert growth[-1] < 20, f"RSS per batch of 40 calls: {growth}"
    assert fds() <= base_fds
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert left == [], left
