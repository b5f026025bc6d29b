"""Turn ends queued together on one Whisper model are decoded as one batch (audio/scheduler.py,
audio/whisper_batch.py), each call still getting its own result; an answer that needs no decoding
(silence, or the words settled at the pause) leaves the batch without holding the others. A fake
model records the batches (the real one: benchmarks/whisper_cost.py)."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from audio.recognizer import Recognition
from audio.scheduler import RecognitionPool, RecognitionStream
from audio.whisper_batch import BatchingModel, Meeting


class _Result:
    def __init__(self, ids: list[int]) -> None:
        self.sequences_ids = [ids]
        self.scores = [-0.1]


class FakeModel:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def generate(self, features, prompts, **kwargs):
        self.batches.append(np.asarray(features).shape[0])
        return [_Result([p[-1], 99, 98, 97][: kwargs["max_length"] - len(p)]) for p in prompts]


class Decoding:
    """A recognizer whose finish() decodes through the (batching) model: token `n` is its answer;
    n None: nothing to decode (silence)."""

    def __init__(self, model, n: int | None, gate: threading.Event | None = None) -> None:
        self.model, self.n, self.gate = model, n, gate
        self.batch_key = model

    def expect(self, phrases) -> None:
        pass

    def accept(self, pcm: bytes) -> None:
        pass

    def partial(self) -> str:
        return ""

    def finish(self) -> Recognition:
        if self.gate is not None:
            assert self.gate.wait(5)
        if self.n is None:
            return Recognition("", 0.0)
        res = self.model.generate(np.zeros((1, 3, 4), np.float32), [[7, self.n]], max_length=4)[0]
        return Recognition(" ".join(map(str, res.sequences_ids[0])), 0.9)

    def close(self) -> None:
        pass


async def test_turn_ends_queued_together_are_one_batch():
    fake = FakeModel()
    model = BatchingModel(fake)
    pool = RecognitionPool(1, batch=8)
    gate = threading.Event()
    blocker = RecognitionStream(pool, Decoding(object(), None, gate), feed_bytes=1)
    held = blocker.end_turn(b"\x01\x00")  # the pool's only thread waits on this one
    await asyncio.sleep(0.05)
    streams = [RecognitionStream(pool, Decoding(model, n), feed_bytes=1) for n in (1, 2, None, 3)]
    finals = [s.end_turn(b"\x01\x00") for s in streams]
    gate.set()
    await held
    results = [await asyncio.wait_for(f, 10) for f in finals]
    assert [r.text for r in results] == ["1 99", "2 99", "", "3 99"]  # each its own
    assert fake.batches == [3] and pool.batched == 4  # the silent one left the batch without a decoding
    for s in [blocker, *streams]:
        await s.close()
    pool.close()


async def test_no_batch_when_turns_end_apart():
    fake = FakeModel()
    model = BatchingModel(fake)
    pool = RecognitionPool(1, batch=8)
    for n in (1, 2):
        s = RecognitionStream(pool, Decoding(model, n), feed_bytes=1)
        assert (await asyncio.wait_for(s.end_turn(b"\x01\x00"), 10)).text == f"{n} 99"
        await s.close()
    assert fake.batches == [1, 1] and pool.batched == 0
    pool.close()


def test_a_failed_batch_fails_each_member_not_the_thread():
    class Broken:
        def generate(self, features, prompts, **kwargs):
            raise RuntimeError("model broke")

    meeting = Meeting(2, timeout=5)
    errors: list[str] = []
    model = BatchingModel(Broken())

    def member() -> None:
        with meeting.join():
            try:
                model.generate(np.zeros((1, 3, 4), np.float32), [[1]], max_length=3)
            except RuntimeError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=member) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == ["model broke", "model broke"]
