"""The worker's one media clock (bot/telephony/media/clock.py): every stream's 20 ms frame comes
from one timer; a starved loop is caught up at most MAX_BURST frames a stream per wake, and a
debt beyond RESYNC is dropped; a stream leaving (or failing) mid-run stops only itself.
Behaviour, not timings: the assertions hold however late the machine wakes the loop."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from audio import g711
from bot.telephony.media.clock import MAX_BURST, RESYNC, TICK, MediaClock, clock_for
from bot.telephony.media.rtp import RtpPacket
from bot.telephony.media.rtp_stream import MediaStream, PortPool


class Probe:
    """A stream as the clock sees it: records the wake and lateness of each frame it is given."""

    def __init__(self, clock: MediaClock, on_frame=None) -> None:
        self.clock = clock
        self.frames: list[tuple[int, bool]] = []  # (clock wake, late)
        self.on_frame = on_frame

    def _clock_frame(self, late: bool, now: float) -> None:
        self.frames.append((self.clock.wakes, late))
        if self.on_frame:
            self.on_frame(self)

    def per_wake(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for wake, _ in self.frames:
            counts[wake] = counts.get(wake, 0) + 1
        return counts


def _starve(seconds: float) -> None:
    time.sleep(seconds)  # the event loop's thread busy: the clock's slots pass unsent


async def _until(cond, within: float = 5.0) -> None:
    end = time.monotonic() + within
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(TICK / 2)


async def test_one_clock_per_loop_gives_every_stream_its_frame_on_the_same_wake() -> None:
    clock = clock_for()
    assert clock_for() is clock and clock_for(asyncio.get_running_loop()) is clock
    probes = [Probe(clock) for _ in range(5)]
    tasks_before = len(asyncio.all_tasks())
    for p in probes:
        clock.add(p)
    assert len(asyncio.all_tasks()) == tasks_before  # no task per stream
    await _until(lambda: all(len(p.frames) >= 5 for p in probes))
    first = [p.frames[0][0] for p in probes]
    assert len(set(first)) == 1  # added between two ticks: all start on the next one
    common = set.intersection(*({w for w, _ in p.frames} for p in probes))
    assert len(common) >= 4  # each wake serves every stream
    for p in probes:
        clock.remove(p)
    assert len(clock) == 0 and clock._timer is None  # no streams, no timer


async def test_a_stream_removed_mid_run_gets_nothing_more_and_the_others_go_on() -> None:
    clock = MediaClock(asyncio.get_running_loop())
    a, b = Probe(clock), Probe(clock)
    clock.add(a)
    clock.add(b)
    await _until(lambda: len(a.frames) >= 3)
    clock.remove(a)
    stopped = len(a.frames)
    seen_b = len(b.frames)
    await _until(lambda: len(b.frames) >= seen_b + 5)
    assert len(a.frames) == stopped
    clock.remove(b)


async def test_streams_leaving_during_a_wake_and_a_failing_stream_stop_alone() -> None:
    clock = MediaClock(asyncio.get_running_loop())
    victim = Probe(clock)

    def leave_and_take_victim(p: Probe) -> None:  # closes itself and another stream from its frame
        clock.remove(p)
        clock.remove(victim)

    def fail(_p: Probe) -> None:
        raise RuntimeError("a broken recording callback")

    leaver, failing, steady = Probe(clock, leave_and_take_victim), Probe(clock, fail), Probe(clock)
    for p in (leaver, failing, victim, steady):
        clock.add(p)
    await _until(lambda: len(steady.frames) >= 5)
    assert len(leaver.frames) == 1 and len(failing.frames) == 1 and victim.frames == []
    assert leaver not in clock and failing not in clock and steady in clock
    clock.remove(steady)


async def test_a_starved_loop_is_caught_up_without_a_burst_and_counted_late() -> None:
    clock = MediaClock(asyncio.get_running_loop())
    p = Probe(clock)
    clock.add(p)
    await _until(lambda: len(p.frames) >= 3)
    woke = clock.wakes
    _starve(0.1)  # five slots pass unsent
    await _until(lambda: clock.wakes > woke and clock._streams[p] == clock._due + 1)  # the debt is paid
    counts = p.per_wake().values()
    assert max(counts) <= MAX_BURST  # never more than the due frame plus one owed
    assert MAX_BURST in counts  # owed frames were sent, not dropped: a 100 ms debt is no resync
    assert any(late for _, late in p.frames)
    clock.remove(p)


async def test_a_debt_beyond_resync_is_dropped_not_sent() -> None:
    clock = MediaClock(asyncio.get_running_loop())
    p = Probe(clock)
    clock.add(p)
    await _until(lambda: len(p.frames) >= 2)
    woke = clock.wakes
    _starve(RESYNC + 0.15)  # > 10 frames owed
    await _until(lambda: clock.wakes > woke and clock._streams[p] == clock._due + 1)
    assert max(p.per_wake().values()) <= MAX_BURST
    assert len(p.frames) < clock._due  # the stale slots were skipped
    clock.remove(p)


async def test_a_stream_added_later_starts_on_the_next_tick_of_the_running_grid() -> None:
    clock = MediaClock(asyncio.get_running_loop())
    first, later = Probe(clock), Probe(clock)
    clock.add(first)
    await _until(lambda: len(first.frames) >= 3)
    start = clock._start
    clock.add(later)
    assert clock._streams[later] == clock._due + 1
    await _until(lambda: len(later.frames) >= 2)
    assert clock._start == start  # one grid for the loop: joining does not restart it
    clock.remove(first)
    clock.remove(later)
    clock.add(first)  # idle, then a stream again: a fresh grid from now
    assert clock._start > start and clock._streams[first] == 1
    clock.remove(first)


async def test_two_real_lines_on_one_clock_carry_audio_and_keys_and_close_alone() -> None:
    pool = PortPool(39300, 39340)
    heard: list[bytes] = []
    keys: list[str] = []
    a = MediaStream("127.0.0.1", pool)
    b = MediaStream("127.0.0.1", pool, on_audio=heard.append, on_dtmf=keys.append)
    await a.open()
    await b.open()
    try:
        a.connect(("127.0.0.1", b.port), g711.PT_PCMU, 101)
        b.connect(("127.0.0.1", a.port), g711.PT_PCMU, 101)
        assert a._clock is b._clock is clock_for()
        tone = (np.sin(np.arange(800) / 5) * 8000).astype("<i2").tobytes()  # 100 ms: five frames
        a.play(tone)
        a.send_dtmf("5#")
        await asyncio.wait_for(a.drained(), 5)
        await _until(lambda: keys == ["5", "#"] and sum(map(any, heard)) >= 5)
        assert b"".join(f for f in heard if any(f)) == g711.decode(g711.encode(tone, 0), 0)
        assert a.audio_sent == len(tone)
        await a.close()
        sent_a, sent_b = a.stats.sent, b.stats.sent
        await _until(lambda: b.stats.sent >= sent_b + 3)
        assert a.stats.sent == sent_a and a not in clock_for() and b in clock_for()
        assert pool.in_use == {b.port}
    finally:
        await a.close()
        await b.close()
    assert len(clock_for()) == 0 and pool.in_use == set()


def test_packets_with_csrcs_or_padding_decode_as_the_plain_ones() -> None:
    heard: list[bytes] = []
    stream = MediaStream("127.0.0.1", PortPool(1, 2), on_audio=heard.append)  # fed directly, never opened
    stream.peer = ("127.0.0.1", 4000)
    payload = bytes(range(160))
    plain = RtpPacket(8, 1, 160, 7, payload, marker=True).to_bytes()
    csrc = bytes([0x81]) + plain[1:12] + b"\0\0\0\1" + payload
    padded = bytes([0xA0]) + plain[1:] + b"\0\0\3"
    for packet in (plain, csrc, padded):
        stream._on_datagram(packet, stream.peer)
    assert heard == [g711.decode(payload, g711.PT_PCMA)] * 3
    assert stream.stats.received == 3 and stream.stats.malformed == 0
