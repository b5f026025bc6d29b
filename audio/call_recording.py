"""The whole call on record: one stereo WAV (bot left, resident right) on the line clock.

    rec = CallRecording.open(clip_dir)       # <clip_dir>/call-stereo.wav, 8 kHz 16-bit stereo
    rec.heard(pcm)                           # caller audio as the pipeline hears it: the line clock
    rec.sent(pcm)                            # bot audio as it leaves, placed where the line clock is
    rec.sent(pcm, at=sample)                 # ... or at a known line sample (the in-memory line)
    await rec.aclose()

The line clock is the pipeline's (bot/pipeline/listener.py): seconds of caller audio heard since
answer. The transcript's times (`Turn.line_at`, a prompt's `played`) are on it, so the right
channel is exactly the audio that clock counts, and each piece of the bot's audio is written
at the right channel's position when it left. The bot's side keeps its own continuity: a
piece follows the one before unless that drifted more than SLACK from the line clock (the
send and receive clocks of a phone line differ by jitter), then it is moved back onto it.

Written as it goes: every FLUSH seconds what both channels have is interleaved and appended
(on one writer thread for all calls, in order), and the WAV header's sizes are rewritten
with it (the stdlib `wave` writer patches its header on every write), so a `kill -9` loses
at most the last second and a 20-minute call holds no more than a couple of seconds in memory.
A channel that runs ahead of the other by more than LEAD seconds (the caller's media stopped,
or the bot's side is silent and sends nothing) has the other padded with silence."""

from __future__ import annotations

import asyncio
import logging
import wave
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["FILE_NAME", "CallRecording", "recording_path", "start"]

FILE_NAME = "call-stereo.wav"
RATE = 8000
FLUSH = int(0.5 * RATE)  # samples per channel gathered before a write
LEAD = RATE  # a channel may run this far ahead of the other before the other is padded
SLACK = int(0.06 * RATE)  # bot audio this far off the line clock is still written continuously
# one thread writes every call's recording, in submission order (a slow disk never stalls the audio loop)
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="call-recording")


def recording_path(clip_dir: str | Path | None) -> Path | None:
    """Where a call's stereo recording is (None without a clip directory); it may not exist."""
    return Path(clip_dir) / FILE_NAME if clip_dir else None


class CallRecording:
    """One call's stereo recording, written incrementally. Feed it from the event loop (or any
    one thread); files are written on the shared writer thread."""

    def __init__(self, path: Path, rate: int = RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self.line = 0  # samples of caller audio heard: the line clock
        self._base = 0  # file samples per channel handed to the writer
        self._left = np.zeros(0, dtype="<i2")  # bot audio from _base on
        self._right = bytearray()  # caller audio from _base on
        self._pad = 0  # silence added to the right channel (caller media stalled): file = line + pad
        self._next_left = 0  # file sample where the bot's next piece follows on
        self._closed = False
        self._failed = False
        self._last: Future | None = None
        self._wav: wave.Wave_write | None = None
        self._file = None

    @classmethod
    def open(cls, clip_dir: str | Path, rate: int = RATE) -> CallRecording:
        path = recording_path(clip_dir)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        rec = cls(path, rate)
        rec._submit(rec._start)
        return rec

    # ------------------------------------------------------------ feeding
    def heard(self, pcm: bytes) -> None:
        """Caller audio, in the order the pipeline hears it (advances the line clock)."""
        if self._closed or not pcm:
            return
        pcm = pcm[: len(pcm) & ~1]
        self._right += pcm
        self.line += len(pcm) // 2
        self._maybe_flush()

    def sent(self, pcm: bytes, at: int | None = None) -> None:
        """Bot audio that left on the line: at line sample `at` when known, else where the line
        clock is now (kept continuous with the piece before within SLACK)."""
        if self._closed or not pcm:
            return
        x = np.frombuffer(pcm[: len(pcm) & ~1], dtype="<i2")
        if at is None:
            now = self.line + self._pad
            start = self._next_left if abs(self._next_left - now) <= SLACK else now
            if start > now + SLACK and not x.any():
                return  # silence while the caller's media stalled: do not run ahead on it
        else:
            start = at + self._pad
        start = max(start, self._base)  # what is on disk stays
        self._next_left = start + len(x)
        end = start - self._base + len(x)
        if len(self._left) < end:
            self._left = np.concatenate([self._left, np.zeros(end - len(self._left), dtype="<i2")])
        self._left[start - self._base:end] = x
        self._maybe_flush()

    def cut(self, at: int) -> None:
        """The bot's audio placed beyond line sample `at` never played (barge-in on the in-memory line)."""
        keep = max(0, at + self._pad - self._base)
        if len(self._left) > keep:
            self._left = self._left[:keep].copy()
        self._next_left = min(self._next_left, self._base + keep)

    # ------------------------------------------------------------ writing
    def _maybe_flush(self, final: bool = False) -> None:
        right = len(self._right) // 2
        left = len(self._left)
        if right - left > LEAD or final:  # the bot's side sent nothing for a while: silence there
            self._left = np.concatenate([self._left, np.zeros(max(0, right - left), dtype="<i2")])
        elif left - right > LEAD:  # the caller's media stopped: silence on their side
            gap = left - right - LEAD // 2
            self._right += bytes(2 * gap)
            self._pad += gap
        right = len(self._right) // 2
        n = len(self._left) if final else min(len(self._left), right)
        if n < FLUSH and not (final and n):
            return
        if final and len(self._left) > right:
            self._right += bytes(2 * (len(self._left) - right))
        frames = np.empty((n, 2), dtype="<i2")
        frames[:, 0] = self._left[:n]
        frames[:, 1] = np.frombuffer(bytes(self._right[: 2 * n]), dtype="<i2")
        self._left = self._left[n:].copy()
        del self._right[: 2 * n]
        self._base += n
        data = frames.tobytes()
        self._submit(lambda: self._write(data))

    def _submit(self, fn) -> None:
        self._last = _WRITER.submit(self._guarded, fn)

    def _guarded(self, fn) -> None:
        if self._failed and fn != self._finish:
            return
        try:
            fn()
        except (OSError, wave.Error) as exc:  # a full disk loses the recording, never the call
            self._failed = True
            why = getattr(exc, "strerror", None) or type(exc).__name__  # not the path: the folder is the attempt's
            log.error("call recording of attempt %s not written (%s)", self.path.parent.name, why)

    def _start(self) -> None:
        self._file = f = open(self.path, "wb")  # closed in _finish: held across writes
        w = wave.open(f, "wb")
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(self.rate)
        self._wav = w
        self._write(b"")

    def _write(self, data: bytes) -> None:
        # the stdlib writer rewrites the header's sizes whenever they change: the file on disk
        # is a complete WAV after every write (kill -9 keeps all but the samples not yet written)
        assert self._wav is not None
        self._wav.writeframes(data)
        self._file.flush()  # to the OS: a killed process's written data survives it

    def _finish(self) -> None:
        try:
            if self._wav is not None:
                self._wav.close()  # the last header patch (a file it did not open stays open)
        finally:
            self._wav = None
            if self._file is not None:
                self._file.close()
                self._file = None

    def close(self) -> Future | None:
        """Write what is left and close the file; returns the writer's future (done when on disk)."""
        if self._closed:
            return self._last
        self._maybe_flush(final=True)
        self._closed = True
        self._submit(self._finish)
        return self._last

    async def aclose(self) -> None:
        done = self.close()
        if done is not None:
            await asyncio.wrap_future(done)


def start(transport: object, clip_dir: str | Path) -> CallRecording | None:
    """Record the call carried by `transport` (one with `record_to`, as the SIP and the in-memory
    lines have) into `clip_dir`; None, logged, for a transport that cannot."""
    attach = getattr(transport, "record_to", None)
    if attach is None:
        log.warning("call recording asked for, but %s cannot record: call not recorded", type(transport).__name__)
        return None
    rec = CallRecording.open(clip_dir)
    attach(rec)
    return rec
