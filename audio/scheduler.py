"""Recognition work of every call in a process, on a few threads, turn ends first.

Each call has a `RecognitionStream`: the event loop appends caller audio to it (never
waiting) and asks for the final result when the caller's turn ends (awaiting only that).
The pool's threads take whole streams: a thread takes *all* the audio a stream has
gathered, so under load the recognizer gets bigger pieces (less overhead per second of
audio) instead of the calls queueing behind one another, and a stream whose turn has ended
goes before streams that only have audio to feed, because a turn end is what the caller is
waiting on. A stream is worked on by one thread at a time, so its (not thread-safe)
recognizer needs no lock. Threads are started on first use and again after a fork.

Turn ends queued together whose recognizers share a `batch_key` (one Whisper model) are taken
by one thread at once (it waits `BATCH_WAIT` for them), up to `batch`, and decoded as one batch
(audio/whisper_batch.py): Whisper's decoder costs less per answer in a batch. Vosk recognizers
have no key and are worked on one by one as before."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque

from audio.recognition_stream import KEEP, RecognitionStream, _Item  # noqa: F401 (KEEP, RecognitionStream: this module's API)

log = logging.getLogger(__name__)

BATCH = 8  # turn ends of one model decoded as one batch at most (audio/whisper_batch.py)
BATCH_WAIT = 0.005  # s a batchable turn end waits for others (a Whisper decoding takes ~0.1-0.3 s of CPU)


class RecognitionPool:
    def __init__(self, threads: int = 2, name: str = "recognize", batch: int = BATCH):
        """`batch`: turn ends queued together whose recognizers share a `batch_key` (a Whisper
        model) are taken by one thread at once, up to this many, their decoding batched (1: never)."""
        if threads < 1 or batch < 1:
            raise ValueError("threads and batch must be at least 1")
        self.threads = threads
        self.name = name
        self.batch = batch
        self.batched = 0  # turn ends decoded in a batch with others
        self._helpers = None  # threads for a batch's other members (made on first use, per process)
        self._cv = threading.Condition()
        self._finals: deque[RecognitionStream] = deque()
        self._feeds: deque[RecognitionStream] = deque()
        self._pid: int | None = None
        self._closed = False
        self._turned: deque[float] = deque(maxlen=1024)  # turn_times(): appended by the streams' threads

    # ------------------------------------------------------------ scheduling
    def _ensure_threads(self) -> None:
        """Start the threads in this process (called from the event loop's thread only)."""
        if self._pid == os.getpid():
            if self._closed:  # nothing would ever take the work: say so instead of hanging
                raise RuntimeError("recognition pool is closed")
            return
        if self._pid is not None:  # forked: the parent's threads, lock and queues are not ours
            self._cv = threading.Condition()
            self._finals.clear()
            self._feeds.clear()
        self._pid = os.getpid()
        self._closed = False
        self._helpers = None
        for i in range(self.threads):
            threading.Thread(target=self._run, name=f"{self.name}-{i}", daemon=True).start()

    def _schedule(self, stream: RecognitionStream) -> None:
        """Queue `stream` if it has work and is not on a thread (caller holds the lock)."""
        if stream.busy or not stream.items:
            return
        if any(i.kind != "feed" for i in stream.items):
            if not stream.in_finals:
                stream.in_finals = True
                stream.final_since = time.monotonic()  # final_wait(): admission control reads it
                self._finals.append(stream)
                self._cv.notify()
        elif not stream.in_feeds and stream.pending_bytes() >= stream.feed_bytes:
            stream.in_feeds = True
            self._feeds.append(stream)
            self._cv.notify()

    def _next(self) -> RecognitionStream | None:
        while True:
            for q, flag in ((self._finals, "in_finals"), (self._feeds, "in_feeds")):
                while q:
                    s = q.popleft()
                    setattr(s, flag, False)
                    if not s.busy and s.items:
                        return s
            if self._closed:
                return None
            self._cv.wait()

    def _run(self) -> None:
        lower_priority()
        while True:
            with self._cv:
                stream = self._next()
                if stream is None:
                    return
                stream.busy = True
                items = stream.take()
                mates = self._mates(stream, items)
                helpers = self._helper_threads() if mates else None
            if not mates:
                self._work(stream, items)
                continue
            from audio.whisper_batch import together

            self.batched += 1 + len(mates)
            jobs = [(lambda s=s, it=it: self._work(s, it)) for s, it in [(stream, items), *mates]]
            try:
                together(jobs, helpers)
            except Exception:  # _work catches the recognizers' failures: this is the batch machinery's
                log.exception("batched recognition failed")

    def _work(self, stream: RecognitionStream, items: list[_Item]) -> None:
        try:
            stream.work(items)
        except Exception as exc:  # a broken recognizer must not take the thread with it
            log.exception("recognition failed")
            stream.fail(items, exc)
        with self._cv:
            stream.busy = False
            self._schedule(stream)

    def _mates(self, stream: RecognitionStream, items: list[_Item]) -> list[tuple[RecognitionStream, list[_Item]]]:
        """Other queued turn ends to decode in one batch with `stream`'s (caller holds the lock):
        same `batch_key` (one Whisper model), nothing but audio and pauses before their turn end."""
        key = getattr(stream.recognizer, "batch_key", None)
        if self.batch < 2 or key is None or not items or items[-1].kind != "final":
            return []
        until = time.monotonic() + BATCH_WAIT  # turns that end together reach the queue within a few ms
        while (left := until - time.monotonic()) > 0:
            self._cv.wait(left)
        mates = []
        for s in list(self._finals):
            if len(mates) == self.batch - 1:
                break
            if (s.busy or getattr(s.recognizer, "batch_key", None) is not key
                    or next((i.kind for i in s.items if i.kind not in ("feed", "settle")), None) != "final"):
                continue
            self._finals.remove(s)
            s.in_finals, s.busy = False, True
            mates.append((s, s.take()))
        return mates

    def _helper_threads(self):
        """Threads for a batch's other members (below the event loop, as the pool's own; caller holds the lock)."""
        if self._helpers is None:
            from concurrent.futures import ThreadPoolExecutor

            self._helpers = ThreadPoolExecutor(max_workers=max(1, self.threads * (self.batch - 1)),
                                               thread_name_prefix=f"{self.name}-batch", initializer=lower_priority)
        return self._helpers

    def final_wait(self) -> float:
        """Seconds the oldest turn end in the queue has waited for a thread (0: none waits):
        the recognition queue's wait that a worker's admission control watches."""
        with self._cv:
            waiting = [s.final_since for s in self._finals if s.in_finals and not s.busy]
        return max(0.0, time.monotonic() - min(waiting)) if waiting else 0.0

    def turn_times(self) -> list[float]:
        """Seconds each settle and turn end recognized since the previous call took from being asked
        to its result (queue, busy stream and CPU wait included): admission control reads them."""
        out = []
        while self._turned:
            out.append(self._turned.popleft())
        return out

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()


RECOGNITION_NICE = 5  # recognition runs this much nicer than the process's main thread (the event loop)


def lower_priority() -> None:
    """Run this (recognition) thread below the event loop: when the cores are busy the loop, which
    must take every 20 ms frame of every call in time, goes first; recognition catches up in the
    gaps (it gets whole pieces of audio, so it loses nothing by waiting a little). Relative to the
    main thread's nice: under `nice -n 10` (the benchmarks) a fixed 5 put recognition *above* the
    loop. Linux applies setpriority to the calling thread's id; elsewhere this does nothing."""
    try:
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())  # the main thread's
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, base + RECOGNITION_NICE))
    except (AttributeError, OSError):
        pass
