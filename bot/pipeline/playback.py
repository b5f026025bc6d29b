"""PlaybackLog: what the bot actually played on the line, and when (evidence of the notice).

The dialog session records what the bot *said* when it decided to say it; the line plays it
later (after synthesis, after earlier prompts, maybe cut by barge-in). The DialogProcessor
tells this log each prompt it sends (`sent`), the PromptPlayer each prompt's exact audio
(`rendered`), and the output's BotStarted/StoppedSpeaking give the line times of a burst of
audio (`started`/`stopped`, on the DialogProcessor's line clock). A burst is split by the
prompts' audio lengths; prompts the line never reached (dropped on barge-in) are not reported.
Each played prompt goes to `notify` as a `PromptPlayed`; for `keep_steps` (the risk notice)
its PCM is written to the call's clip folder as `bot-NN-<step>.wav` with its SHA-256.

What was actually sent decides (issue 22 item 6): with `carried` (seconds of bot audio the line
has sent so far, counted by the transport: MediaStream.audio_sent, LineOutput.carried) a prompt
is complete when all of its audio left within its burst, however late the BotStoppedSpeaking
came or however far the heard-audio clock lags; without it, the burst's line length is used. A
prompt never starts before the line time it was sent at (a burst may span a short answer:
pipecat merges audio less than 0.35 s apart), and a prompt the player never rendered (dropped on
barge-in) does not hold up the ones after it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from audio.wav import CALL_RATE, wav_bytes
from bot.dialog.events import PromptPlayed

log = logging.getLogger(__name__)
KEEP_STEPS = ("notice",)


SLACK = 0.1  # seconds: the clock ticks every ~0.1 s; up to 60 ms may still be queued at the stop


@dataclass
class _Prompt:
    text: str
    step: str | None
    pcm: bytes | None = None
    sent_at: float = 0.0  # line time the dialog sent it: it cannot play earlier


class PlaybackLog:
    def __init__(self, notify: Callable[[PromptPlayed], None], clip_dir: Path | None = None,
                 keep_steps: tuple[str, ...] = KEEP_STEPS, rate: int = CALL_RATE,
                 carried: Callable[[], float] | None = None, now: Callable[[], float] | None = None) -> None:
        self.notify, self.clip_dir, self.keep_steps, self.rate = notify, clip_dir, keep_steps, rate
        self.carried = carried  # seconds of bot audio the line has sent so far (None: not counted)
        # the line clock as the transport counts it now (caller audio received): the processor's
        # clock ticks every 0.1 s, so a burst's start read from it can be that much early
        self.now = now
        self._queue: deque[_Prompt] = deque()
        self._burst_at: float | None = None
        self._burst_carried = 0.0
        self._kept = 0

    def sent(self, text: str, step: str | None, line: float = 0.0) -> None:
        self._queue.append(_Prompt(text, step, sent_at=line))

    def rendered(self, text: str, pcm: bytes) -> None:
        """The player rendered `text`. It renders in order, so prompts sent before it and not
        rendered were dropped (barge-in, synthesis failed): they never play."""
        for i, p in enumerate(self._queue):
            if p.pcm is None and p.text == text:
                p.pcm = pcm
                self._queue = deque(q for j, q in enumerate(self._queue) if j >= i or q.pcm is not None)
                return

    def started(self, line: float) -> None:
        if self.now is not None:
            line = max(line, self.now())
        if self._burst_at is None:
            self._burst_at = line
            self._burst_carried = self.carried() if self.carried is not None else 0.0

    def stopped(self, line: float) -> None:
        """The line went quiet at `line`: the burst's prompts played in order, as far as the
        line carried them."""
        if self._burst_at is None:
            return
        at, self._burst_at = self._burst_at, None
        # how much audio this burst put on the line: counted by the transport when it can
        budget = self.carried() - self._burst_carried if self.carried is not None else line - at
        offset = 0.0  # audio of this burst before the prompt
        cursor = at  # line time the next prompt of the burst starts at, at the earliest
        while self._queue and self._queue[0].pcm is not None:
            p = self._queue.popleft()
            assert p.pcm is not None
            length = len(p.pcm) / 2 / self.rate
            start = max(cursor, p.sent_at)  # a gap inside the burst (a short answer) moves it on
            if self.carried is not None:  # what the line sent of this burst decides
                reached, played, complete = offset < budget - 1e-6, min(length, budget - offset), \
                    offset + length <= budget + SLACK
            else:  # the burst's line times decide (the clock ticks every ~0.1 s)
                reached, played, complete = start < line, min(length, line - start), start + length <= line + 0.25
            if reached:  # else: never reached the line (dropped on barge-in)
                self._report(p, start, start + (length if complete else played), complete=complete)
            offset += length
            cursor = start + length

    def _report(self, p: _Prompt, start: float, end: float, complete: bool) -> None:
        if not p.text:  # a pause: it takes line time, it is no prompt
            return
        audio = digest = None
        if p.step in self.keep_steps and p.pcm is not None and self.clip_dir is not None:
            self._kept += 1
            path = self.clip_dir / f"bot-{self._kept:02d}-{p.step}.wav"
            data = wav_bytes(p.pcm, self.rate)
            audio, digest = str(path), hashlib.sha256(data).hexdigest()
            _write_off_loop(path, data)
        try:
            self.notify(PromptPlayed(p.text, p.step, round(start, 3), round(end, 3), complete, audio, digest))
        except Exception:  # storing must never end the call
            log.exception("prompt-played observer failed")


def _write_off_loop(path: Path, data: bytes) -> None:
    """Write the kept audio on a thread (the call's event loop carries live audio)."""

    def write() -> None:
        try:
            part = path.with_name(path.name + ".part")
            part.write_bytes(data)
            part.replace(path)  # whole or absent, never half a file
        except OSError:  # a full disk loses the copy, not the call (the evidence says "missing")
            log.exception("played audio %s not kept", path.name)

    try:
        asyncio.get_running_loop().run_in_executor(None, write)
    except RuntimeError:  # no loop (a direct caller): write here
        write()
