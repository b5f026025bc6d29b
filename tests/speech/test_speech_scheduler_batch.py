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
        if len({len(p) for p in prompts}) > 1:  # as CTranslate2: the start token at one position in all
            raise ValueError("requires the <|startoftranscript|> token to be at the same position in all batches")
        self.batches.append(np.asarray(features).shape[0])
        return [_Result([p[-1], 99, 98, 97][: kwargs["max_length"] - len(p)]) for p in prompts]


class Decoding:
    """A recognizer whose finish() decodes through the (batching) model: token `n` is its answer;
    n None: nothing to decode (silence)."""

    def __init__(self, model, n: int | None, gate: threading.Event | None = None, prompt: int = 1) -> None:
        self.model, self.n, self.gate, self.prompt = model, n, gate, prompt
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
        prompt = [7] * self.prompt + [self.n]  # the question's prompt, then the answer's own token
        res = self.model.generate(np.zeros((1, 3, 4), np.float32), [prompt], max_length=len(prompt) + 2)[0]
        return Recognition(" ".join(map(str, res.sequences_ids[0])), 0.9)

    def close(self) -> None:
        pass


async def decoded_queued_together(pool: RecognitionPool, recognizers: list[Decoding]) -> list[Recognition]:
    """Every recognizer's turn end queued while the pool's only thread is busy (so they are queued
    together), then released: each turn's result, in order; the streams are closed after."""
    gate = threading.Event()
    blocker = RecognitionStream(pool, Decoding(object(), None, gate), feed_bytes=1)
    held = blocker.end_turn(b"\x01\x00")  # the pool's only thread waits on this one
    await asyncio.sleep(0.05)
    streams = [RecognitionStream(pool, r, feed_bytes=1) for r in recognizers]
    finals = [s.end_turn(b"\x01\x00") for s in streams]
    gate.set()
    await held
    results = [await asyncio.wait_for(f, 10) for f in finals]
    for s in [blocker, *streams]:
        await s.close()
    return results


async def test_turn_ends_queued_together_are_one_batch():
    fake = FakeModel()
    model = BatchingModel(fake)
    pool = RecognitionPool(1, batch=8)
    results = await decoded_queued_together(pool, [Decoding(model, n) for n in (1, 2, None, 3)])
    assert [r.text for r in results] == ["1 99", "2 99", "", "3 99"]  # each its own
    assert fake.batches == [3] and pool.batched == 4  # the silent one left the batch without a decoding
    pool.close()


async def test_calls_at_different_questions_are_batched_by_prompt_length():
    fake = FakeModel()
    model = BatchingModel(fake)
    pool = RecognitionPool(1, batch=8)
    results = await decoded_queued_together(
        pool, [Decoding(model, n, prompt=p) for n, p in ((1, 1), (2, 3), (3, 1), (4, 3), (5, 2))])
    assert [r.text for r in results] == ["1 99", "2 99", "3 99", "4 99", "5 99"]
    assert sorted(fake.batches) == [1, 2, 2]  # one batch per prompt length, none failed
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


def _nice() -> int:
    import os

    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_recognition_runs_below_the_loop_whatever_the_process_nice():
    """Recognition threads run RECOGNITION_NICE below the main thread, relative to it (under
    `nice -n 10`, a fixed nice 5 put them above the loop); so do the threads the Whisper model
    makes for itself (audio.whisper._below_the_loop: they inherit the nice of the thread that loads it)."""
    import os

    from audio.scheduler import RECOGNITION_NICE, lower_priority
    from audio.whisper import _below_the_loop

    base = os.getpriority(os.PRIO_PROCESS, os.getpid())
    if base + RECOGNITION_NICE > 19:
        base = 19 - RECOGNITION_NICE  # (min(19, …): a process already at the bottom stays there)
    seen: list[int] = []

    def pool_thread() -> None:
        lower_priority()
        seen.append(_nice())

    t = threading.Thread(target=pool_thread)
    t.start()
    t.join()

    def make() -> threading.Thread:  # as CTranslate2 starts its decoding threads with the model
        inner = threading.Thread(target=lambda: seen.append(_nice()))
        inner.start()
        return inner

    _below_the_loop(make).join()
    assert seen == [base + RECOGNITION_NICE] * 2


def test_a_generate_with_other_options_runs_alone_inside_a_batch():
    """A decoding the batch does not know (the expected answers scored with the decoder's logits)
    runs at once, alone, untrimmed; the member's plain decoding still meets the others."""
    fake = FakeModel()
    model = BatchingModel(fake)
    meeting = Meeting(2, timeout=5)
    got: list[int] = []

    def member(n: int) -> None:
        with meeting.join():
            model.generate(np.zeros((1, 3, 4), np.float32), [[7, n]], max_length=3, return_logits_vocab=True)
            got.append(model.generate(np.zeros((1, 3, 4), np.float32), [[7, n]], max_length=4)[0].sequences_ids[0][0])

    threads = [threading.Thread(target=member, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(got) == [1, 2] and sorted(fake.batches) == [1, 1, 2]
