"""CallerListener: hears the caller. Decides where each caller turn starts and ends
(energy gate + Silero at 8 kHz, end-of-turn silence per question) and transcribes only
the audio around speech (with pre-roll) with the current question's grammar, off the
event loop on the process's RecognitionPool: hearing (detection, frames, the line clock)
never waits for recognition; only the end of a turn waits for its final result. Emits CallerSpeechFrame at speech start/stop (barge-in needs the start fast),
InterimTranscriptionFrame while the caller speaks, CallerAnswerFrame (final text, word
confidences) at the end of a turn, and LineClockFrame every ~100 ms of line audio.
Keeps each answer's audio as a clip when given a directory."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from pathlib import Path

from pipecat.frames.frames import CancelFrame, EndFrame, Frame, InputAudioRawFrame, InterimTranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from audio.recognizer import Recognizer
from audio.scheduler import KEEP, RecognitionPool, RecognitionStream
from audio.vad import SpeechDetector
from audio.wav import write_wav
from bot.pipeline import onset, turn_meaning
from bot.pipeline.frames import CallerAnswerFrame, CallerSpeechFrame, ExpectAnswerFrame, LineClockFrame
from bot.pipeline.late_answer import LATE_CONFIDENCE, UNHEARD, recognized  # noqa: F401 (LATE_CONFIDENCE, UNHEARD: the listener's words)

log = logging.getLogger(__name__)

RATE = 8000
PREROLL = onset.HISTORY  # bytes of audio kept before the detected start (the turn starts at bot/pipeline/onset)
FEED_BYTES = int(0.2 * RATE) * 2  # recognizer is fed at least 200 ms at a time, not per frame
CLOCK_BYTES = int(0.1 * RATE) * 2
PROBE_AFTER = int(0.08 * RATE)  # samples of silence after which the words so far are judged complete or not
HOLD_AFTER = int(0.25 * RATE)  # trailing silence beyond this is held back from the recognizer
MAX_TURN_BYTES = 30 * RATE * 2  # a turn longer than 30 s is cut and recognized
# A live caller waits at most this long (wall clock) for the answer's recognition after the turn
# ends; then the call goes on with what is known (see `_answer_frame`). Offline calls (`veribot
# call`, a `line` given) are not real time and wait for the recognition whatever it takes.
RECOGNITION_BOUND = 2.5


class CallerListener(FrameProcessor):
    def __init__(
        self,
        detector: SpeechDetector,
        recognizer: Recognizer,
        pool: RecognitionPool,
        grammar_for,  # (Listen) -> list[str] | None
        *,
        clip_dir: Path | None = None,
        line=None,  # an offline LineClock to acknowledge heard audio to (tests, `veribot call`)
        bound: float | None = RECOGNITION_BOUND,  # s a turn end waits for recognition (None: no bound)
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.detector = detector
        self.recognizer = recognizer
        self.stream = RecognitionStream(pool, recognizer, feed_bytes=FEED_BYTES, on_partial=self._on_partial)
        self._partial = ""
        self.grammar_for = grammar_for
        self.clip_dir = clip_dir
        self.line = line
        self.bound = None if line is not None else bound
        self.late_answers = 0  # answers not recognized within the bound (the call went on without them)
        self._heard = 0  # bytes of caller audio received
        self._clock_mark = 0
        self._preroll = bytearray()
        self._turn = bytearray()  # audio of the current turn, for the clip
        self._unfed = bytearray()
        self._held = bytearray()
        self._in_turn = False
        self._probed = False  # the current pause was noticed (PROBE_AFTER of silence)
        self._settled = False  # the current pause's words were sent to be decoded and judged
        self._pause = 0  # pauses noticed: a pause's words are judged only during that pause
        self._in_flight: int | None = None  # the pause whose words are being decoded (turn_meaning)
        self._short_end = False  # the current pause is judged the end of a complete answer
        self.meaning_ends = 0  # turns ended by meaning (the short silence after a complete answer)
        self.pauses_skipped = 0  # pauses not decoded: turn_meaning.worth_judging said no
        self._continue_until: float | None = None  # speech starting before this continues the last answer
        self._after: object = None  # the Listen the last answer (ended by meaning) was to
        self._turn_listen: object = None  # a continuation's turn: heard as the previous question's
        self._continues = False
        self.failed_answers = 0
        self._turn_start = 0.0
        self._listen = None
        self._grammar_due = False
        self._clips = 0
        self.bad_frames = 0
        self._interim = ""
        # Frames go downstream in the order they happened; an answer still being recognized
        # holds back what came after it (hearing itself goes on).
        self._outlet: deque = deque()
        self._pump: asyncio.Task | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self._hear(frame.audio)
            if self.line is not None:
                self.line.heard(self._heard // 2)
        elif isinstance(frame, ExpectAnswerFrame):
            self.expect(frame.listen)
        elif isinstance(frame, EndFrame):
            if self._pump is not None:
                await self._pump  # answers still being recognized go out first
            await self.push_frame(frame, direction)
            await self.stream.close()
        elif isinstance(frame, CancelFrame):
            if self._pump is not None:
                await self.cancel_task(self._pump)
                self._pump = None
            self._outlet.clear()
            await self.push_frame(frame, direction)
            await self.stream.close()
        elif direction == FrameDirection.DOWNSTREAM:
            await self._emit(frame)
        else:
            await self.push_frame(frame, direction)

    async def _emit(self, item) -> None:
        """Push a frame downstream, or queue it behind an answer not yet recognized. An
        item is a frame or (future of a Recognition, answer fields)."""
        if self._outlet or not isinstance(item, Frame):
            self._outlet.append(item)
            if self._pump is None or self._pump.done():
                self._pump = self.create_task(self._drain(), "answers")
        else:
            await self.push_frame(item)

    async def _drain(self) -> None:
        while self._outlet:
            item = self._outlet[0]
            frame = item if isinstance(item, Frame) else await self._answer_frame(*item)
            await self.push_frame(frame)
            self._outlet.popleft()  # only now: a frame emitted meanwhile queues behind this one
            if not isinstance(item, Frame) and callable(getattr(self.line, "answered", None)):
                self.line.answered()  # the offline caller waits for this, not a fixed time

    def expect(self, listen) -> None:
        """The next answer is to `listen` (grammar, end-of-turn silence); None: free decoding."""
        self._listen = listen
        self._grammar_due = True
        if listen is not None and not self._short_end:
            self.detector.set_end_silence(listen.end_silence)

    def _on_partial(self, text: str) -> None:  # on the loop, from the recognition thread
        if self._in_turn:
            self._partial = text

    def _on_settled(self, pause: int, text: str) -> None:  # on the loop: the words at pause `pause`
        if self._in_flight == pause:
            self._in_flight = None
        if self._in_turn and pause == self._pause and self._settled:  # still that pause: judge it
            self._partial = text
            self._end_by_meaning(text)

    def _end_by_meaning(self, text: str) -> None:
        """End of turn by meaning (the seam to the dialog: `Listen.complete`, bot/pipeline/turn_meaning):
        once the caller is silent and the words heard so far already answer the question, a short
        silence ends the turn (`end_silence_complete`); otherwise the question's full `end_silence`."""
        listen = self._turn_listen or self._listen
        done = turn_meaning.complete(listen, text, whole=turn_meaning.whole_turn(self.recognizer))
        if done is None:
            return
        done = done and self.detector.trailing_silence > 0
        self._short_end = done
        self.detector.set_end_silence(listen.end_silence_complete if done else listen.end_silence)

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
                self._begin_turn(at)
                self._turn_start = at
                self._turn = bytearray()
                self._unfed = bytearray()
                self._held = bytearray()
                history = bytes(self._preroll) + pcm  # pre-roll: the start is detected late
                detected = ev.sample - (self._heard - len(history)) // 2
                self._take(history[onset.turn_start(history, detected):])
                await self._emit(CallerSpeechFrame(started=True, at=at))
            elif not ev.started and self._in_turn:
                self._in_turn = False
                await self._emit(CallerSpeechFrame(started=False, at=at))
                await self._answer(at)
        if self._in_turn and len(self._turn) >= MAX_TURN_BYTES:
            self._in_turn = False
            await self._answer(self._heard / 2 / RATE)
        if self._in_turn:
            self._probe_silence()
        if self._in_turn and len(self._unfed) >= FEED_BYTES:
            self._feed()
        if self._in_turn and self._partial and self._partial != self._interim:
            self._interim = self._partial
            await self._emit(InterimTranscriptionFrame(text=self._interim, user_id="caller",
                                                            timestamp=f"{self._heard / 2 / RATE:.3f}"))
        self._preroll += pcm
        del self._preroll[: max(0, len(self._preroll) - PREROLL)]
        if self._heard - self._clock_mark >= CLOCK_BYTES:
            self._clock_mark = self._heard
            await self._emit(LineClockFrame(at=self._heard / 2 / RATE))

    def _begin_turn(self, at: float) -> None:
        """A new turn starts with the full end-of-turn silence. Speech that starts within the full
        silence of an answer ended early by meaning is that answer going on (the caller paused, the
        bot took it for the end): it is heard with that question's grammar and marked `continues`."""
        self._probed = self._settled = self._short_end = False
        self._pause += 1
        self._continues = self._continue_until is not None and at <= self._continue_until
        self._continue_until = None
        if self._continues and self._after is not None and self._after is not self._listen:
            self._turn_listen, self._grammar_due = self._after, True
        listen = self._turn_listen or self._listen
        if listen is not None:
            self.detector.set_end_silence(listen.end_silence)

    def _probe_silence(self) -> None:
        """As soon as the caller falls silent, have everything said so far recognized to the end at
        once (the stream's `settle`, ahead of other calls' plain feeding): the words that come back
        are what end of turn by meaning judges (`_on_settled`), within the bounds of a whole-turn
        decoder's cost (`turn_meaning.worth_judging`). When the caller speaks again, the turn is back
        to the question's full end-of-turn silence until the next pause is judged."""
        silent = self.detector.trailing_silence
        if not silent:
            if self._probed:
                self._probed = self._settled = self._short_end = False
                listen = self._turn_listen or self._listen
                if listen is not None:
                    self.detector.set_end_silence(listen.end_silence)
            return
        if silent >= PROBE_AFTER and not self._probed:
            self._probed = True
            self._pause += 1
            if not turn_meaning.worth_judging(self.recognizer, self.stream.pool, self._turn_listen or self._listen,
                                              self._turn, self._in_flight is not None):
                self.pauses_skipped += 1
                turn_meaning.COUNTS["skipped"] += 1
                return
            turn_meaning.COUNTS["decoded"] += 1
            self._settled, self._in_flight = True, self._pause
            self._feed(settle=True, pause=self._pause)

    def _take(self, pcm: bytes) -> None:
        self._turn += pcm
        if self.detector.trailing_silence > HOLD_AFTER:
            self._held += pcm  # the turn is probably over: decoding silence costs as much as speech
        else:
            self._unfed += self._held + pcm  # (the caller went on: what was held is fed after all)
            self._held = bytearray()

    def _take_grammar(self):
        """The grammar to switch to before the next feed, or KEEP."""
        if not self._grammar_due:
            return KEEP
        self._grammar_due = False
        listen = self._turn_listen or self._listen
        return self.grammar_for(listen) if listen else None

    def _feed(self, settle: bool = False, pause: int = 0) -> None:
        chunk, self._unfed = bytes(self._unfed), bytearray()
        on_settled = (lambda text: self._on_settled(pause, text)) if settle else None
        self.stream.feed(chunk, self._take_grammar(), settle=settle, on_settled=on_settled)

    async def _answer(self, end: float) -> None:
        """Hand the turn's last audio to recognition; the answer frame follows when it is known
        (the last audio, the final result and the clip are one piece of recognition work)."""
        listen = self._turn_listen or self._listen
        step = listen.step if listen else None
        continues, self._continues = self._continues, False
        if self._short_end and listen is not None:  # ended by meaning: the caller may yet go on
            self._continue_until, self._after = end + listen.end_silence, listen
        settled = self._settled  # everything said up to this pause was settled, and nobody spoke since
        self.meaning_ends += self._short_end
        turn_meaning.COUNTS.update(turns=1, by_meaning=int(self._short_end))
        self._probed = self._settled = self._short_end = False
        self._in_flight = None  # a settle still queued is dropped by the stream (the final covers it)
        clip = None
        if self.clip_dir is not None and self._turn:
            self._clips += 1
            clip = self.clip_dir / f"{self._clips:02d}-{step or 'none'}.wav"
        # After a settle the rest of the turn is the pause the VAD heard as silence: decoding it would
        # only cost a second Vosk FinalResult (~8 ms of CPU per turn, a fifth of recognition at 150
        # calls, benchmarks/call_load.py), so the words settled are the answer. The clip keeps it all.
        # A recognizer that decodes whole turns (Whisper) is given the rest and decides itself whether
        # it holds speech (a weak last syllable the VAD took for the pause) or reuses the settled words.
        rest = settled and not getattr(self.recognizer, "hears_after_settle", False)
        chunk, self._unfed = (b"" if rest else bytes(self._unfed)), bytearray()
        turn, self._turn = bytes(self._turn), bytearray()
        kept: list[str] = []

        def keep_clip() -> None:  # on the recognition thread, before the result is handed back
            try:
                write_wav(clip, turn)
                kept.append(str(clip))
            except OSError:  # a full disk loses the clip, not the answer
                log.exception("caller clip for step %s not written", step)

        future = self.stream.end_turn(chunk, self._take_grammar(), keep_clip if clip is not None else None)
        if self._turn_listen is not None:  # the next turn is heard as the current question again
            self._turn_listen, self._grammar_due = None, True
        if self.line is not None:
            self.line.turn_ended()  # the offline caller now waits for the bot's reply
        so_far, self._interim, self._partial = self._partial, "", ""  # words heard up to the pause
        await self._emit((future, step, self._turn_start, end, kept, continues, so_far))

    async def _answer_frame(self, future, step, start: float, end: float, kept: list[str],
                            continues: bool = False, so_far: str = "") -> CallerAnswerFrame:
        """The answer, once recognized (bot/pipeline/late_answer: a live call waits `bound` for it)."""
        result, outcome = await recognized(future, self.bound, step, so_far)
        self.late_answers += outcome == "late"
        self.failed_answers += outcome == "failed"
        return CallerAnswerFrame(text=result.text, confidence=result.confidence, step=step,
                                 speech_start=start, speech_end=end, words=list(result.words),
                                 clip=kept[0] if kept else None, continues=continues)
