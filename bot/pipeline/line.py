"""The audio timeline of an in-memory phone line (samples at 8 kHz) and the caller's
scripted turns. Used by `bot.pipeline.offline`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CallerTurn:
    kind: str  # speech | dtmf | silence | hangup
    pcm: bytes = b""
    keys: str = ""
    barge_in_after: float | None = None  # speak this many seconds into the bot's prompt
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("speech", "dtmf", "silence", "hangup"):
            raise ValueError(f"unknown caller turn kind {self.kind!r}")
        if self.kind == "dtmf" and any(k not in "0123456789*#" for k in self.keys):
            raise ValueError(f"not DTMF keys: {self.keys!r}")


def speech_span(pcm: bytes, floor: int = 300) -> tuple[int, int]:
    """First and last sample above `floor` (where speech really is in a clip)."""
    x = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
    loud = np.nonzero(x > floor)[0]
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)


class LineClock:
    def __init__(self) -> None:
        self.now = 0  # samples of line time
        self.heard_upto = 0  # samples the listener has processed
        self.turns_ended = 0  # caller turns the listener has ended (handed to recognition)
        self.turns_answered = 0  # of those, the ones whose answer has gone to the dialog
        self.finished = False
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def advance(self, samples: int) -> None:
        self.now += samples
        self._notify()

    def heard(self, samples: int) -> None:
        self.heard_upto = samples
        self._notify()

    def turn_ended(self) -> None:
        self.turns_ended += 1
        self._notify()

    def answered(self) -> None:
        self.turns_answered += 1
        self._notify()

    def poke(self) -> None:
        """Something a waiter may be watching changed (e.g. the bot queued audio)."""
        self._notify()

    def finish(self) -> None:
        self.finished = True
        self._notify()

    async def wait(self, predicate, limit: float | None = None) -> bool:
        """Wait until `predicate()` holds or the line is finished; False after `limit` seconds."""
        deadline = None if limit is None else time.monotonic() + limit
        while not predicate() and not self.finished:
            ev = self._changed
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if left is None:
                await ev.wait()  # no timer: this runs for every 20 ms of every call
                continue
            try:
                await asyncio.wait_for(ev.wait(), left)
            except TimeoutError:
                return False
        return True
