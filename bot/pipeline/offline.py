"""A telephone line in memory: a scripted caller and a recording loudspeaker, sharing one
audio timeline (`LineClock`, in samples at 8 kHz). Used by `veribot call`, the tests and
the load benchmark. Implements the transport side of the `run_call` seam.

Offline (default) the line runs as fast as the pipeline hears it: the caller pushes a
chunk, waits until the listener has heard it, and the bot's audio is placed on the line
when the line reaches it — so what happens when (barge-in, timeouts) is measured on the
audio timeline, not the wall clock. While the caller waits for a reply it gives the bot
real time (up to 1.5 s, from the end of the caller's turn as the listener detected it,
or from a key press) to start its reply. With `realtime=True` the caller speaks at wall-clock
pace, as a phone would (benchmarks), and late chunks are counted as missed deadlines."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from audio.call_recording import CallRecording
from bot.pipeline.frames import CallerHangUpFrame
from bot.pipeline.line import CallerTurn, LineClock, speech_span

__all__ = ["CallerTurn", "LineClock", "LineOutput", "LineTransport", "ScriptedCaller", "speech_span"]

RATE = 8000
OUT_CHUNK = 160  # bot audio leaves in 20 ms pieces
REPLY_GAP = int(0.4 * RATE)  # the caller answers 0.4 s after the bot stops
THINK_SECONDS = 1.5  # real time the line waits for the bot to start a reply
ANSWER_SECONDS = 30.0  # real time the line waits for a turn's recognition (Whisper: ~1 s on a busy box)
HEARING_SLACK = int(0.1 * RATE)
ENDING_LIMIT = 5 * RATE  # line time allowed after the bot's last audio once the call is ending


class LineOutput(FrameProcessor):
    """The bot's side of the line: plays audio onto the timeline, drops it on interruption."""

    def __init__(self, line: LineClock, chunk_samples: int = OUT_CHUNK, **kwargs):
        super().__init__(**kwargs)
        self.line = line
        self.chunk = chunk_samples
        self.track = bytearray()  # bot audio, positioned on the line
        self.end = 0  # line sample where queued-and-played audio ends
        self.carried = 0  # samples of bot audio placed on the line (the PlaybackLog's measure)
        self.speaking = False
        self.speech_started = -1  # line sample where the current/last prompt started
        self.first_audio_after: list[int] = []  # starts of bot speech (for latency)
        self.interruptions: list[int] = []
        self._queue: deque[bytes] = deque()
        self._have_audio = asyncio.Event()
        self._generation = 0
        self._writer: asyncio.Task | None = None
        self.recording: CallRecording | None = None  # the whole call on record: bot side

    @property
    def busy(self) -> bool:
        return self.speaking or bool(self._queue)

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            self._writer = self.create_task(self._write_loop(), "line-output")
            await self.push_frame(frame, direction)
        elif isinstance(frame, OutputAudioRawFrame):
            if frame.sample_rate != RATE or frame.num_channels != 1:
                raise ValueError(f"call audio must be 8000 Hz mono, got {frame.sample_rate} Hz")
            a = frame.audio
            for i in range(0, len(a), self.chunk * 2):
                self._queue.append(a[i : i + self.chunk * 2])
            self._have_audio.set()
            self.line.poke()  # a caller waiting for the reply sees it coming
        elif isinstance(frame, InterruptionFrame):
            self._interrupt()
            await self.push_frame(frame, direction)
        elif isinstance(frame, EndFrame):
            await self.line.wait(lambda: not self._queue and self.line.now >= self.end)
            await self._stop()
            await self.push_frame(frame, direction)
        elif isinstance(frame, CancelFrame):
            await self._stop()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    def _interrupt(self) -> None:
        self._queue.clear()
        self._generation += 1
        if self.speaking or self.end > self.line.now:
            self.interruptions.append(self.line.now)
            del self.track[self.line.now * 2 :]
            self.end = min(self.end, self.line.now)
            if self.recording is not None:
                self.recording.cut(self.line.now)

    async def _stop(self) -> None:
        if self._writer:
            await self.cancel_task(self._writer)
            self._writer = None
        self.line.finish()

    async def _write_loop(self) -> None:
        while True:
            if not self._queue:
                if self.speaking:
                    await self.line.wait(lambda: self._queue or self.line.now >= self.end)
                    if not self._queue:
                        self.speaking = False
                        await self.push_frame(BotStoppedSpeakingFrame(), FrameDirection.UPSTREAM)
                    continue
                self._have_audio.clear()
                await self._have_audio.wait()
                continue
            gen = self._generation
            chunk = self._queue.popleft()
            start = max(self.end, self.line.now)
            await self.line.wait(lambda s=start: self.line.now >= s)
            if gen != self._generation:
                continue  # interrupted while waiting: this audio is never played
            if not self.speaking:
                self.speaking = True
                self.speech_started = start
                self.first_audio_after.append(start)
                await self.push_frame(BotStartedSpeakingFrame(), FrameDirection.UPSTREAM)
            if len(self.track) < start * 2:
                self.track.extend(bytes(start * 2 - len(self.track)))
            self.track[start * 2 :] = chunk
            if self.recording is not None:
                self.recording.sent(chunk, at=start)
            self.end = start + len(chunk) // 2
            self.carried += len(chunk) // 2


class ScriptedCaller(FrameProcessor):
    """The caller's side: plays its turns onto the line as a cooperative person would."""

    def __init__(
        self,
        line: LineClock,
        output: LineOutput,
        turns: list[CallerTurn],
        *,
        chunk_samples: int = 160,
        realtime: bool = False,
        max_seconds: float = 600.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if chunk_samples < 1:
            raise ValueError("chunk_samples must be at least 1")
        self.line = line
        self.output = output
        self.turns = list(turns)
        self.chunk = chunk_samples
        self.realtime = realtime
        self.max_samples = int(max_seconds * RATE)
        self.track = bytearray()
        self.speech_ends: list[int] = []  # line samples where the caller's speech ended
        self.speech_onsets: list[int] = []
        self.missed_deadlines = 0  # realtime: chunks the caller itself sent late
        self.hearing_late = 0  # realtime: chunks sent while the listener was > 100 ms behind
        self.hung_up = False
        self._ending = False  # the bot ended the call: the line plays out, the caller is silent
        self._feeder: asyncio.Task | None = None
        self.recording: CallRecording | None = None  # the whole call on record: caller side

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            self._feeder = self.create_task(self._feed(), "scripted-caller")
        elif isinstance(frame, EndFrame):
            self._ending = True  # keep the line moving until the goodbye has played
            await self.push_frame(frame, direction)
        elif isinstance(frame, CancelFrame):
            await self._stop_feeder()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _stop_feeder(self) -> None:
        if self._feeder:
            await self.cancel_task(self._feeder)
            self._feeder = None

    async def cleanup(self):
        await super().cleanup()
        await self._stop_feeder()

    def _bot_replied(self, mark: int) -> bool:
        o = self.output
        return o.speech_started >= mark and not o.busy and self.line.now >= o.end + REPLY_GAP

    async def _feed(self) -> None:
        pending = deque(self.turns)
        speech = b""
        mark, thinking = 0, True  # mark: where the caller's last turn ended
        reply_due, turns_before = True, 0  # reply_due: the bot owes a reply now (greeting, keys)
        t0 = time.monotonic()
        while not self.line.finished and self.line.now < self.max_samples:
            if self._ending:
                if self.line.now > self.output.end + ENDING_LIMIT:
                    break  # the bot's output never finished the call: stop the line
                if self.recording is not None:
                    self.recording.heard(bytes(2 * self.chunk))  # the caller is silent: the line goes on
                self.line.advance(self.chunk)
                await asyncio.sleep(self.chunk / RATE if self.realtime else 0)
                continue
            if not speech and pending:
                turn = pending[0]
                o = self.output
                barge = turn.barge_in_after is not None and o.speaking and o.speech_started >= mark
                if barge and self.line.now >= o.speech_started + int(turn.barge_in_after * RATE):
                    ready = True
                else:
                    ready = turn.barge_in_after is None and self._bot_replied(mark)
                if ready:
                    pending.popleft()
                    said_until = self.line.now
                    if turn.kind == "speech":
                        speech = turn.pcm
                        a, b = speech_span(speech)
                        self.speech_onsets.append(self.line.now + a)
                        self.speech_ends.append(self.line.now + b)
                        said_until = self.line.now + b  # the bot may reply in the clip's trailing silence
                    elif turn.kind == "hangup":
                        self.hung_up = True
                        await self.push_frame(CallerHangUpFrame(reason="caller hung up"))
                        return
                    elif turn.kind == "dtmf":
                        for k in turn.keys:
                            await self.push_frame(InputDTMFFrame(button=KeypadEntry(k)))
                    mark, thinking = said_until, turn.kind != "silence"
                    reply_due, turns_before = turn.kind == "dtmf", self.line.turns_ended
            elif not speech and not pending and self._bot_replied(mark):
                self.hung_up = True
                await self.push_frame(CallerHangUpFrame(reason="caller script ended"))
                return
            n = self.chunk
            chunk, speech = (speech[: n * 2], speech[n * 2 :]) if speech else (bytes(n * 2), b"")
            if len(chunk) < n * 2:
                chunk += bytes(n * 2 - len(chunk))
            self.track += chunk
            if self.recording is not None:
                self.recording.heard(chunk)
            await self.push_frame(InputAudioRawFrame(audio=chunk, sample_rate=RATE, num_channels=1))
            self.line.advance(n)
            if self.realtime:  # a phone line does not wait for the bot to listen
                behind = self.line.now - n - self.line.heard_upto
                if behind > HEARING_SLACK:
                    self.hearing_late += 1  # the pipeline has not heard audio sent 100 ms ago
                lag = time.monotonic() - (t0 + self.line.now / RATE)
                if lag > n / RATE:
                    self.missed_deadlines += 1
                elif lag < 0:
                    await asyncio.sleep(-lag)
                continue
            await self.line.wait(lambda: self.line.heard_upto >= self.line.now, limit=30)
            o = self.output
            if o.speech_started >= mark:
                thinking = False  # the bot has begun its reply
            if thinking and not speech and not o.busy and (reply_due or self.line.turns_ended > turns_before):
                # The bot is working on its reply (the listener ended the caller's turn, or
                # keys were pressed): the line waits for it, up to THINK_SECONDS of real time,
                # after the answer of every ended turn is known (recognition may take a while).
                await self.line.wait(lambda: self.line.turns_answered >= self.line.turns_ended,
                                     limit=ANSWER_SECONDS)
                await self.line.wait(lambda m=mark: self.output.speech_started >= m or self.output.busy,
                                     limit=THINK_SECONDS)
                thinking = False
            else:
                await asyncio.sleep(0)
        if not self.line.finished and not self._ending:
            self.hung_up = True  # the caller gives up after max_seconds
            await self.push_frame(CallerHangUpFrame(reason="caller time limit"))


class LineTransport(BaseTransport):
    """In-memory phone line: `input()` is the scripted caller, `output()` the loudspeaker."""

    def __init__(self, turns: list[CallerTurn], *, chunk_samples: int = 160, realtime: bool = False,
                 max_seconds: float = 600.0, out_chunk_samples: int = OUT_CHUNK):
        super().__init__()
        self.line = LineClock()
        self._output = LineOutput(self.line, out_chunk_samples)
        self._input = ScriptedCaller(self.line, self._output, turns, chunk_samples=chunk_samples,
                                     realtime=realtime, max_seconds=max_seconds)

    def record_to(self, recording: CallRecording) -> None:
        """Keep the whole call on the line's own timeline (audio/call_recording.py)."""
        self._input.recording = recording
        self._output.recording = recording

    def hang_up(self) -> None:
        """Drop the line (the watchdog's last resort)."""
        self.line.finish()

    def input(self) -> ScriptedCaller:
        return self._input

    def output(self) -> LineOutput:
        return self._output

    def carried_seconds(self) -> float:
        """Seconds of the bot's audio the line has carried (bot.pipeline.playback)."""
        return self._output.carried / RATE
