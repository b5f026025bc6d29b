"""One call's side of the recognition pool (audio/scheduler.py): the event loop queues the caller's
audio, pauses and turn ends on a `RecognitionStream` without waiting; a pool thread works them
off on the call's recognizer and hands results back to the loop."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audio.recognizer import Recognizer

KEEP = object()  # an item that does not change the grammar


@dataclass
class _Item:
    grammar: Any  # KEEP, None (free decoding) or a phrase list
    audio: bytearray = field(default_factory=bytearray)
    kind: str = "feed"  # feed | settle (the caller paused: words so far, now) | final (ends a turn) | close
    after: Callable[..., None] | None = None  # final: run once the result is known; settle: gets the words
    future: asyncio.Future | None = None
    since: float = 0.0  # settle/final: when asked (the pool's turn_times() measure from it)


class RecognitionStream:
    """One call's recognizer (an `audio.recognizer.Recognizer`) as seen from the event loop.
    `on_partial(text)` is called on the event loop with what the turn sounds like so far.
    `pool`: the process's audio.scheduler.RecognitionPool (not imported here: it imports this)."""

    def __init__(self, pool: Any, recognizer: Recognizer, *, feed_bytes: int = 3200,
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
        self.settles_dropped = 0  # settles not decoded: their turn had ended before a thread took them
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

    def feed(self, pcm: bytes, grammar: Any = KEEP, *, settle: bool = False,
             on_settled: Callable[[str], None] | None = None) -> None:
        """Queue caller audio (after a grammar change, unless KEEP). Never blocks. `settle`: the
        caller paused; have the words so far decoded to the end at once, ahead of plain feeding
        (recognizer.settle()), and reported on the event loop to `on_settled` (default on_partial).
        A settle still queued when its turn's end is taken is dropped, unreported: the turn's final
        result covers its audio (under load this saves a whole-turn decoder a decoding)."""
        if self.closed or (not pcm and grammar is KEEP and not settle):
            return
        if settle:
            self._submit(_Item(grammar, bytearray(pcm), "settle", on_settled, since=time.monotonic()))
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
        ends = bool(items) and items[-1].kind in ("final", "close")  # take() stops at a turn's end
        for item in items:
            if item.grammar is not KEEP:
                if audio:
                    rec.accept(bytes(audio))
                    audio = bytearray()
                rec.expect(item.grammar)
            audio += item.audio
            if item.kind == "settle":
                if ends:  # the turn has ended meanwhile: its final result is what is wanted
                    self.settles_dropped += 1
                    continue
                if audio:
                    rec.accept(bytes(audio))
                    audio = bytearray()
                settle = getattr(rec, "settle", None)  # optional: the protocol's partial() otherwise
                text = settle() if settle is not None else rec.partial()
                self._turned(item)
                report = item.after or self.on_partial
                if report is not None and self._loop is not None:
                    _call(self._loop, report, text)
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
                    self._turned(item)
                    _resolve(item.future, result)
                return
        if audio:
            rec.accept(bytes(audio))
            if self.on_partial is not None and self._loop is not None:
                _call(self._loop, self.on_partial, rec.partial())

    def _turned(self, item: _Item) -> None:
        """How long this settle or turn end took from being asked to its result (admission control)."""
        turned = getattr(self.pool, "_turned", None)
        if turned is not None and item.since:
            turned.append(time.monotonic() - item.since)

    def fail(self, items: list[_Item], exc: BaseException) -> None:
        for item in items:
            if item.future is not None:
                _call(item.future.get_loop(), _set_exception, item.future, exc)


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
