"""Recognition work of every call in a process, on a few threads, turn ends first.

Each call has a `RecognitionStream`: the event loop appends caller audio to it (never
waiting) and asks for the final result when the caller's turn ends (awaiting only that).
The pool's threads take whole streams: a thread takes *all* the audio a stream has
gathered, so under load the recognizer gets bigger pieces (less overhead per second of
audio) instead of the calls queueing behind one another, and a stream whose turn has ended
goes before streams that only have audio to feed, because a turn end is what the caller is
waiting on. A stream is worked on by one thread at a time, so its (not thread-safe)
recognizer needs no lock. Threads are started on first use and again after a fork."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audio.recognizer import Recognizer

log = logging.getLogger(__name__)

KEEP = object()  # an item that does not change the grammar


@dataclass
class _Item:
    grammar: Any  # KEEP, None (free decoding) or a phrase list
    audio: bytearray = field(default_factory=bytearray)
    kind: str = "feed"  # feed | settle (the caller paused: words so far, now) | final (ends a turn) | close
    after: Callable[[], None] | None = None  # final: run once the result is known
    future: asyncio.Future | None = None
    since: float = 0.0  # settle/final: when asked (turn_times() measures from it)


class RecognitionPool:
    def __init__(self, threads: int = 2, name: str = "recognize"):
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.threads = threads
        self.name = name
        self._cv = threading.Condition()
        self._finals: deque[RecognitionStream] = deque()
        self._feeds: deque[RecognitionStream] = deque()
        self._pid: int | None = None
        self._closed = False
        self._turned: deque[float] = deque(maxlen=1024)  # turn_times(): appended by the threads

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
        _lower_priority()
        while True:
            with self._cv:
                stream = self._next()
                if stream is None:
                    return
                stream.busy = True
                items = stream.take()
            try:
                stream.work(items)
            except Exception as exc:  # a broken recognizer must not take the thread with it
                log.exception("recognition failed")
                stream.fail(items, exc)
            with self._cv:
                stream.busy = False
                self._schedule(stream)

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


class RecognitionStream:
    """One call's recognizer (an `audio.recognizer.Recognizer`) as seen from the event loop.
    `on_partial(text)` is called on the event loop with what the turn sounds like so far."""

    def __init__(self, pool: RecognitionPool, recognizer: Recognizer, *, feed_bytes: int = 3200,
                 on_partial: Callable[[str], None] | None = None):
        self.pool = pool
        self.recognizer = recognizer
        self.feed_bytes = feed_bytes
        self.on_partial = on_partial
        self.items: deque[_Item] = deque()
        self.busy = False
        self.in_finals = False
        self.in_feeds = False
        self.final_since = 0.0  # when it joined the pool's queue of turn ends (monotonic)
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def pending_bytes(self) -> int:
        return sum(len(i.audio) for i in self.items)

    # ------------------------------------------------------------ event-loop side
    def _submit(self, item: _Item | None, pcm: bytes = b"") -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self.pool._ensure_threads()
        with self.pool._cv:
            if item is None:  # audio: joins the last queued piece when nothing comes between
                last = self.items[-1] if self.items else None
                if last is not None and last.kind == "feed":
                    last.audio += pcm
                else:
                    self.items.append(_Item(KEEP, bytearray(pcm)))
            else:
                self.items.append(item)
            self.pool._schedule(self)

    def feed(self, pcm: bytes, grammar: Any = KEEP, *, settle: bool = False) -> None:
        """Queue caller audio (after a grammar change, unless KEEP). Never blocks. `settle`: the
        caller paused; have the words so far decoded to the end at once, ahead of plain feeding
        (recognizer.settle()), and reported to on_partial."""
        if self.closed or (not pcm and grammar is KEEP and not settle):
            return
        if settle:
            self._submit(_Item(grammar, bytearray(pcm), "settle", since=time.monotonic()))
        else:
            self._submit(None if grammar is KEEP else _Item(grammar, bytearray(pcm)), pcm)

    def end_turn(self, pcm: bytes = b"", grammar: Any = KEEP,
                 after: Callable[[], None] | None = None) -> asyncio.Future:
        """The last audio of a turn; the future gets the turn's result (recognizer.finish()).
        `after` runs on the recognition thread once the result is known (e.g. writing the clip)."""
        if self.closed:
            raise RuntimeError("recognition stream is closed")
        fut = asyncio.get_running_loop().create_future()
        self._submit(_Item(grammar, bytearray(pcm), "final", after, fut, time.monotonic()))
        return fut

    async def finish(self, pcm: bytes = b"", grammar: Any = KEEP, after: Callable[[], None] | None = None):
        """end_turn, awaited."""
        return await self.end_turn(pcm, grammar, after)

    async def close(self) -> None:
        """Drop queued audio and free the recognizer once no thread is using it."""
        if self.closed:
            return
        self.closed = True
        fut = asyncio.get_running_loop().create_future()
        with self.pool._cv:
            for item in self.items:
                if item.future is not None:
                    _cancel(item.future)
            self.items.clear()
        try:
            self._submit(_Item(KEEP, kind="close", future=fut))
        except RuntimeError:  # the pool is closed (shutting down): the recognizer goes with it
            return
        await fut

    # ------------------------------------------------------------ thread side
    def take(self) -> list[_Item]:
        """Everything up to and including the first turn end (caller holds the pool lock)."""
        out = []
        while self.items:
            item = self.items.popleft()
            out.append(item)
            if item.kind in ("final", "close"):
                break
        return out

    def work(self, items: list[_Item]) -> None:
        rec, audio = self.recognizer, bytearray()
        for item in items:
            if item.grammar is not KEEP:
                if audio:
                    rec.accept(bytes(audio))
                    audio = bytearray()
                rec.expect(item.grammar)
            audio += item.audio
            if item.kind == "settle":
                if audio:
                    rec.accept(bytes(audio))
                    audio = bytearray()
                settle = getattr(rec, "settle", None)  # optional: the protocol's partial() otherwise
                text = settle() if settle is not None else rec.partial()
                self.pool._turned.append(time.monotonic() - item.since)
                if self.on_partial is not None and self._loop is not None:
                    _call(self._loop, self.on_partial, text)
                continue
            if item.kind == "close":
                rec.close()
                _resolve(item.future, None)
                return
            if item.kind == "final":
                if audio:
                    rec.accept(bytes(audio))
                result = rec.finish()
                try:
                    if item.after is not None:
                        item.after()
                finally:
                    self.pool._turned.append(time.monotonic() - item.since)
                    _resolve(item.future, result)
                return
        if audio:
            rec.accept(bytes(audio))
            if self.on_partial is not None and self._loop is not None:
                _call(self._loop, self.on_partial, rec.partial())

    def fail(self, items: list[_Item], exc: BaseException) -> None:
        for item in items:
            if item.future is not None:
                _call(item.future.get_loop(), _set_exception, item.future, exc)


RECOGNITION_NICE = 5  # recognition threads yield the cores to the event loops that hear the calls


def _lower_priority() -> None:
    """Run this (recognition) thread below the event loop: when the cores are busy the loop, which
    must take every 20 ms frame of every call in time, goes first; recognition catches up in the
    gaps (it gets whole pieces of audio, so it loses nothing by waiting a little). Linux applies
    setpriority to the calling thread's id; elsewhere this does nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RECOGNITION_NICE)
    except (AttributeError, OSError):
        pass


def _resolve(fut: asyncio.Future | None, value: Any) -> None:
    if fut is not None:
        _call(fut.get_loop(), _set_result, fut, value)


def _call(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the call's loop is gone (the call ended): nobody is waiting
        pass


def _set_result(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _cancel(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.cancel()
