"""CallerListener: hears the caller. Decides where each caller turn starts and ends
(energy gate + Silero at 8 kHz, end-of-turn silence per question) and transcribes only
the audio around speech (with pre-roll) with the current question's Vosk grammar, off the
event loop. Emits CallerSpeechFrame at speech start/stop (barge-in needs the start fast),
InterimTranscriptionFrame while the caller speaks, CallerAnswerFrame (final text, word
confidences) at the end of a turn, and LineClockFrame every ~100 ms of line audio.
Keeps each answer's audio as a clip when given a directory."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from pathlib import Path

from pipecat.frames.frames import CancelFrame, EndFrame, Frame, InputAudioRawFrame, InterimTranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from audio.recognizer import AnswerRecognizer, Recognition
from audio.vad import SpeechDetector
from audio.wav import write_wav
from bot.pipeline.frames import CallerAnswerFrame, CallerSpeechFrame, ExpectAnswerFrame, LineClockFrame

log = logging.getLogger(__name__)

RATE = 8000
PREROLL = int(0.4 * RATE) * 2  # bytes of audio kept before the detected start
FEED_BYTES = int(0.2 * RATE) * 2  # recognizer is fed in 200 ms pieces, not per frame
CLOCK_BYTES = int(0.1 * RATE) * 2
HOLD_AFTER = int(0.25 * RATE)  # trailing silence beyond this is held back from the recognizer
MAX_TURN_BYTES = 30 * RATE * 2  # a turn longer than 30 s is cut and recognized
_KEEP = object()  # no grammar change before this feed


class CallerListener(FrameProcessor):
    def __init__(
        self,
        detector: SpeechDetector,
        recognizer: AnswerRecognizer,
        executor: Executor,
        grammar_for,  # (Listen) -> list[str] | None
        *,
        clip_dir: Path | None = None,
        line=None,  # an offline LineClock to acknowledge heard audio to (tests, `veribot call`)
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.detector = detector
        self.recognizer = recognizer
        self.executor = executor
        self.grammar_for = grammar_for
        self.clip_dir = clip_dir
        self.line = line
        self._heard = 0  # bytes of caller audio received
        self._clock_mark = 0
        self._preroll = bytearray()
        self._turn = bytearray()  # audio of the current turn, for the clip
        self._unfed = bytearray()
        self._held = bytearray()
        self._in_turn = False
        self._turn_start = 0.0
        self._listen = None
        self._grammar_due = False
        self._clips = 0
        self.bad_frames = 0
        self._interim = ""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self._hear(frame.audio)
            if self.line is not None:
                self.line.heard(self._heard // 2)
        elif isinstance(frame, ExpectAnswerFrame):
            self.expect(frame.listen)
        elif isinstance(frame, (EndFrame, CancelFrame)):
            await self.push_frame(frame, direction)
            await self._run(self.recognizer.close)
        else:
            await self.push_frame(frame, direction)

    def expect(self, listen) -> None:
        """The next answer is to `listen` (grammar, end-of-turn silence); None: free decoding."""
        self._listen = listen
        self._grammar_due = True
        if listen is not None:
            self.detector.set_end_silence(listen.end_silence)

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _hear(self, pcm: bytes) -> None:
        if len(pcm) & 1:  # a broken frame from the transport: keep the whole samples, count it
            self.bad_frames += 1
            pcm = pcm[:-1]
        events = self.detector.feed(pcm)
        self._heard += len(pcm)
        if self._in_turn:
            self._take(pcm)
        for ev in events:
            at = ev.sample / RATE
            if ev.started and not self._in_turn:
                self._in_turn = True
                self._turn_start = at
                self._turn = bytearray()
                self._unfed = bytearray()
                self._held = bytearray()
                self._take(bytes(self._preroll) + pcm)  # pre-roll: the start is detected late
                await self.push_frame(CallerSpeechFrame(started=True, at=at))
            elif not ev.started and self._in_turn:
                self._in_turn = False
                await self.push_frame(CallerSpeechFrame(started=False, at=at))
                await self._answer(at)
        if self._in_turn and len(self._turn) >= MAX_TURN_BYTES:
            self._in_turn = False
            await self._answer(self._heard / 2 / RATE)
        if self._in_turn and len(self._unfed) >= FEED_BYTES:
            await self._feed()
        self._preroll += pcm
        del self._preroll[: max(0, len(self._preroll) - PREROLL)]
        if self._heard - self._clock_mark >= CLOCK_BYTES:
            self._clock_mark = self._heard
            await self.push_frame(LineClockFrame(at=self._heard / 2 / RATE))

    def _take(self, pcm: bytes) -> None:
        self._turn += pcm
        if self.detector.trailing_silence > HOLD_AFTER:
            self._held += pcm  # the turn is probably over: decoding silence costs as much as speech
        else:
            self._unfed += self._held + pcm  # (the caller went on: what was held is fed after all)
            self._held = bytearray()

    def _take_grammar(self):
        """The grammar to switch to before the next feed, or _KEEP."""
        if not self._grammar_due:
            return _KEEP
        self._grammar_due = False
        return self.grammar_for(self._listen) if self._listen else None

    async def _feed(self) -> None:
        chunk, self._unfed = bytes(self._unfed), bytearray()
        heard = await self._run(self._accept, self._take_grammar(), chunk)
        if heard and heard != self._interim:
            self._interim = heard
            await self.push_frame(InterimTranscriptionFrame(text=heard, user_id="caller",
                                                            timestamp=f"{self._heard / 2 / RATE:.3f}"))

    # Each executor hop waits for a free thread and, under load, for the GIL: with 25 calls
    # per worker that wait was most of the turn latency, so each step is one hop.
    def _accept(self, grammar, chunk: bytes) -> str:  # in the executor
        if grammar is not _KEEP:
            self.recognizer.expect(grammar)
        self.recognizer.accept(chunk)
        return self.recognizer.partial()

    def _final(self, grammar, chunk: bytes, clip: Path | None, turn: bytes) -> Recognition:  # in the executor
        if grammar is not _KEEP:
            self.recognizer.expect(grammar)
        self.recognizer.accept(chunk)
        result = self.recognizer.finish()
        if clip is not None:
            write_wav(clip, turn)
        return result

    async def _answer(self, end: float) -> None:
        """The last audio, the final result and the clip in one hop; the result follows at once."""
        step = self._listen.step if self._listen else None
        clip = None
        if self.clip_dir is not None and self._turn:
            self._clips += 1
            clip = self.clip_dir / f"{self._clips:02d}-{step or 'none'}.wav"
        chunk, self._unfed = bytes(self._unfed), bytearray()
        result: Recognition = await self._run(self._final, self._take_grammar(), chunk, clip, bytes(self._turn))
        self._turn = bytearray()
        self._interim = ""
        await self.push_frame(
            CallerAnswerFrame(
                text=result.text,
                confidence=result.confidence,
                step=step,
                speech_start=self._turn_start,
                speech_end=end,
                words=list(result.words),
            )
        )
