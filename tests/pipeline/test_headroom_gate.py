"""The start gate (bot/pipeline/headroom_gate.py): a new call the headroom refuses waits in line,
first come first started, at the ramp's spacing; a wait that runs out starts nothing. The
headroom's clock is moved by the gate's sleep: no real waiting."""

from __future__ import annotations

import asyncio

from bot.pipeline.headroom import Headroom
from bot.pipeline.headroom_gate import StartGate
from bot.settings import WorkerSettings


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


async def test_calls_refused_by_the_ramp_wait_in_line_and_start_in_order_at_its_spacing():
    clock = Clock()
    gate = StartGate(Headroom(WorkerSettings(starts_per_second=4), clock=clock), sleep=clock.sleep)
    started: list[tuple[int, float]] = []

    async def call(i: int) -> None:
        assert await gate.wait()
        started.append((i, clock.t))

    await asyncio.gather(*(call(i) for i in range(4)))
    assert [i for i, _ in started] == [0, 1, 2, 3]  # first come, first started
    assert [round(t - 100, 2) for _, t in started] == [0, 0.25, 0.5, 0.75]  # one every 1/starts_per_second
    assert (gate.declined, gate.later, gate.waiting) == (3, 3, 0)


async def test_a_wait_that_gives_up_starts_nothing_and_is_counted_declined_not_later():
    clock = Clock()
    headroom = Headroom(WorkerSettings(lag_stop_ms=60, lag_resume_ms=25), clock=clock)
    gate = StartGate(headroom, sleep=clock.sleep)
    headroom.note_lag(200, clock.t)
    assert headroom.check(clock.t) is not None  # the worker holds
    tries = []
    assert not await gate.wait(give_up=lambda: tries.append(clock.t) or len(tries) > 3)
    assert (gate.declined, gate.later, headroom.starts) == (1, 0, 0)
    assert not await gate.wait(deadline=0.0)  # a monotonic deadline already past: no wait at all
    assert (gate.declined, gate.later) == (2, 0)


async def test_calls_admitted_but_not_yet_dialling_count_so_a_burst_is_ramped_past_min_calls():
    """The worker counts its calls at the SIP endpoint (serve: endpoint.busy), and an admitted call
    shows there only once it dials; a burst used to pass as 'fewer than min_calls' and start at once
    (the SIP benchmark: 30 lines, none ramped, 3 in progress at each start)."""
    clock = Clock()
    headroom = Headroom(WorkerSettings(min_calls=4), clock=clock, in_progress=lambda: 0)  # none dials yet
    gate = StartGate(headroom, sleep=clock.sleep)
    started: list[float] = []

    async def call() -> None:
        assert await gate.wait()
        started.append(clock.t)

    await asyncio.gather(*(call() for _ in range(6)))
    assert started[:4] == [100.0] * 4  # min_calls start at once: nothing to protect yet
    assert started[4] > 100.0 and gate.declined == 2  # the rest are ramped / slow-started
