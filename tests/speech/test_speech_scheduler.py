"""The recognition pool with a fake recognizer: ordering per call, turn ends first, audio
gathered while a thread is busy fed as one piece, failures contained, close, fork."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading

import pytest

from audio.scheduler import KEEP, RecognitionPool, RecognitionStream


class FakeRecognizer:
    def __init__(self, log: list, name: str = "r", gate: threading.Event | None = None, fail_on: bytes = b""):
        self.log, self.name, self.gate, self.fail_on = log, name, gate, fail_on
        self.heard = bytearray()
        self.grammar = None
        self.closed = 0

    def expect(self, grammar):
        self.grammar = grammar
        self.log.append((self.name, "expect", tuple(grammar or ())))

    def accept(self, pcm: bytes):
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail_on and self.fail_on in pcm:
            raise ValueError("broken decoder")
        self.heard += pcm
        self.log.append((self.name, "accept", len(pcm)))

    def partial(self) -> str:
        return f"{len(self.heard)}"

    def finish(self):
        text, self.heard = bytes(self.heard), bytearray()
        self.log.append((self.name, "finish", len(text)))
        return (text, self.grammar)

    def close(self):
        self.closed += 1
        self.log.append((self.name, "close"))


@pytest.fixture
def pool():
    p = RecognitionPool(1)
    yield p
    p.close()


async def test_audio_gathered_while_busy_is_one_piece_in_order(pool):
    log, gate = [], threading.Event()
    rec = FakeRecognizer(log, gate=gate)
    partials = []
    s = RecognitionStream(pool, rec, feed_bytes=2, on_partial=partials.append)
    s.feed(b"ab", ["yes", "no"])  # taken at once; the thread then waits at the gate
    await asyncio.sleep(0.05)
    for piece in (b"cd", b"ef", b"gh"):
        s.feed(piece)
    gate.set()
    text, grammar = await s.finish(b"ij")
    assert text == b"abcdefghij" and grammar == ["yes", "no"]
    accepts = [n for _, what, *n in log if what == "accept"]
    assert accepts == [[2], [8]]  # cd+ef+gh+ij in one accept, not four
    await asyncio.sleep(0.01)
    assert partials == ["2"]


async def test_grammar_change_applies_to_the_audio_after_it(pool):
    log = []
    s = RecognitionStream(pool, FakeRecognizer(log), feed_bytes=1)
    assert await s.finish(b"aa", ["one"]) == (b"aa", ["one"])
    assert await s.finish(b"bb", None) == (b"bb", None)  # free decoding for the next turn
    assert await s.finish(b"cc") == (b"cc", None)  # KEEP: the last grammar stays
    assert [e for e in log if e[1] == "expect"] == [("r", "expect", ("one",)), ("r", "expect", ())]


async def test_a_turn_end_goes_before_audio_of_other_calls(pool):
    log, gate = [], threading.Event()
    blocker = RecognitionStream(pool, FakeRecognizer(log, "blocker", gate=gate), feed_bytes=1)
    feeder = RecognitionStream(pool, FakeRecognizer(log, "feeder"), feed_bytes=1)
    ender = RecognitionStream(pool, FakeRecognizer(log, "ender"), feed_bytes=1)
    blocker.feed(b"x")
    await asyncio.sleep(0.05)  # the only thread is now held by the blocker
    feeder.feed(b"aaaa")
    done = asyncio.ensure_future(ender.finish(b"bb"))
    await asyncio.sleep(0.01)
    gate.set()
    await done
    await asyncio.sleep(0.05)
    order = [(name, what) for name, what, *_ in log if name != "blocker"]
    assert order == [("ender", "accept"), ("ender", "finish"), ("feeder", "accept")]


async def test_a_failing_recognizer_fails_its_turn_only(pool):
    log = []
    bad = RecognitionStream(pool, FakeRecognizer(log, "bad", fail_on=b"!"), feed_bytes=1)
    good = RecognitionStream(pool, FakeRecognizer(log, "good"), feed_bytes=1)
    with pytest.raises(ValueError, match="broken decoder"):
        await bad.finish(b"!!")
    assert await good.finish(b"ok") == (b"ok", None)  # the thread lives on
    assert await bad.finish(b"fine") == (b"fine", None)  # and so does the failed call


async def test_close_drops_queued_audio_and_frees_the_recognizer_once(pool):
    log, gate = [], threading.Event()
    rec = FakeRecognizer(log, gate=gate)
    s = RecognitionStream(pool, rec, feed_bytes=1)
    s.feed(b"a")
    await asyncio.sleep(0.05)
    s.feed(b"bbbb")  # queued behind the held feed: dropped by close
    closing = asyncio.ensure_future(s.close())
    await asyncio.sleep(0.01)
    gate.set()
    await closing
    await s.close()
    s.feed(b"after")
    assert rec.closed == 1 and bytes(rec.heard) == b"a"
    with pytest.raises(RuntimeError, match="closed"):
        await s.finish(b"x")


def _child(pool: RecognitionPool, conn) -> None:
    async def main():
        s = RecognitionStream(pool, FakeRecognizer([]), feed_bytes=1)
        return await asyncio.wait_for(s.finish(b"forked", KEEP), 5)

    conn.send(asyncio.run(main())[0])


async def test_the_pool_works_in_a_forked_worker(pool):
    s = RecognitionStream(pool, FakeRecognizer([]), feed_bytes=1)
    assert (await s.finish(b"parent"))[0] == b"parent"  # threads running in the parent
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(target=_child, args=(pool, child))
    proc.start()
    assert parent.poll(10) and parent.recv() == b"forked"
    proc.join(5)
    assert proc.exitcode == 0


async def test_work_for_a_closed_pool_is_refused_not_left_waiting():
    pool = RecognitionPool(1)
    s = RecognitionStream(pool, FakeRecognizer([]), feed_bytes=1)
    assert await s.finish(b"x") == (b"x", None)
    pool.close()
    with pytest.raises(RuntimeError, match="pool is closed"):
        await s.finish(b"y")
