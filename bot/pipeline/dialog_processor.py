"""DialogProcessor: adapts the call's `CallSession` (bot.dialog.session) to the pipeline.

Events in: the call starts (StartFrame), CallerAnswerFrame -> Utterance, InputDTMFFrame ->
Dtmf, no input within the question's timeout (counted on the line clock from the end of
the bot's prompt) -> NoInput, CallerHangUpFrame/EndFrame/CancelFrame -> HangUp.
Actions out, through one table (bot.dialog.actions.perform_table over this driver's `_Line`):
Say -> PromptFrame, a pause -> a PromptFrame of silence, Listen -> ExpectAnswerFrame (upstream,
to the listener), End -> EndWorkerFrame after the queued prompts (the goodbye is played first).
Barge-in: caller speech or a key during a prompt that allows it -> InterruptionFrame."""

from __future__ import annotations

import logging
import time
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    CancelWorkerFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    InputDTMFFrame,
    InterruptionFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bot.dialog.actions import perform_table
from bot.dialog.events import Action, CallRecord, Dtmf, End, Escalate, Listen, NoInput, Say, Utterance
from bot.dialog.session import CallSession
from bot.pipeline.frames import (
    CallerAnswerFrame,
    CallerHangUpFrame,
    CallerSpeechFrame,
    ExpectAnswerFrame,
    LineClockFrame,
    PromptFrame,
)

log = logging.getLogger(__name__)
PROMPT_START_LIMIT = 5.0  # line seconds a sent prompt may take to start playing before it is given up


class DialogProcessor(FrameProcessor):
    def __init__(self, session: CallSession, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.unheard_clip: str | None = None  # audio of a turn with no words, for the next no-input turn
        self.listen: Listen | None = None
        self.line = 0.0  # latest line time seen
        self.bot_speaking = False
        self.prompts_pending = 0  # PromptFrames sent whose audio has not finished
        self.barge_in = True
        self.caller_speaking = False
        self.no_input_deadline: float | None = None
        self.prompt_sent_at = 0.0
        self.ended = False
        self.last_progress = time.monotonic()  # for the watchdog
        self.playback: Any = None  # bot.pipeline.playback.PlaybackLog: what the line played, when
        self.perform = perform_table(_Line(self))  # the dialog's outputs, by type

    # ------------------------------------------------------------ frames
    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        self.last_progress = time.monotonic()
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            await self._perform(self.session.start(at=0.0))
        elif isinstance(frame, LineClockFrame):
            self.line = frame.at
            await self._check_no_input()
        elif isinstance(frame, CallerSpeechFrame):
            self.caller_speaking = frame.started
            self.line = max(self.line, frame.at)
            if frame.started:
                self.no_input_deadline = None
                await self._maybe_barge_in()
        elif isinstance(frame, CallerAnswerFrame):
            if frame.text and not self.session.finished:
                await self._perform(self.session.feed(Utterance(frame.text, frame.confidence, at=frame.speech_end,
                                                                audio=frame.clip, continues=frame.continues)))
            else:  # speech without words (noise, or words the grammar lacks): still waiting
                self.unheard_clip = frame.clip or self.unheard_clip
                self._arm_no_input()
        elif isinstance(frame, InputDTMFFrame):
            await self._maybe_barge_in()
            await self._perform(self.session.feed(Dtmf(str(frame.button.value), at=self.line)))
        elif isinstance(frame, BotStartedSpeakingFrame):
            self.bot_speaking = True
            if self.playback is not None:
                self.playback.started(self.line)
            self.no_input_deadline = None
            await self.push_frame(frame, direction)
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self.bot_speaking = False
            if self.playback is not None:
                self.playback.stopped(self.line)
            self.prompts_pending = 0
            self._arm_no_input()
            await self.push_frame(frame, direction)
        elif isinstance(frame, CallerHangUpFrame):
            await self._hang_up()
        elif isinstance(frame, (EndFrame, CancelFrame)):
            self.close("pipeline ended")
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    # ----------------------------------------------------------- helpers
    def close(self, reason: str) -> CallRecord:
        """End the call's dialog at the current line time (the caller or the line is gone)."""
        if self.playback is not None:
            self.playback.stopped(self.line)  # audio cut by the end of the call
        return self.session.close(at=self.line, reason=reason)

    async def _hang_up(self) -> None:
        self.close("caller hung up")
        if not self.ended:
            self.ended = True
            await self.push_frame(CancelWorkerFrame(reason="caller hung up"), FrameDirection.UPSTREAM)

    async def _maybe_barge_in(self) -> None:
        if (self.bot_speaking or self.prompts_pending) and self.barge_in and not self.ended:
            self.prompts_pending = 0
            await self.push_frame(InterruptionFrame())

    def _arm_no_input(self) -> None:
        if self.listen and not self.bot_speaking and not self.prompts_pending and not self.caller_speaking:
            self.no_input_deadline = self.line + self.listen.no_input_timeout

    async def _check_no_input(self) -> None:
        if self.prompts_pending and not self.bot_speaking and self.line - self.prompt_sent_at > PROMPT_START_LIMIT:
            log.warning("prompt never started playing (synthesis failed?): listening anyway")
            self.prompts_pending = 0  # a silent bot must not wait forever for its own audio
        if self.no_input_deadline is None:
            self._arm_no_input()
            return
        if self.line >= self.no_input_deadline and not self.session.finished:
            self.no_input_deadline = None
            clip, self.unheard_clip = self.unheard_clip, None
            await self._perform(self.session.feed(NoInput(at=self.line, audio=clip)))

    async def _perform(self, actions: list[Action]) -> None:
        for action in actions:  # one table, output type -> the line's primitive (bot.dialog.actions)
            await self.perform[type(action)](action)
        if self.session.finished and not self.ended:
            self.ended = True
            await self.push_frame(EndWorkerFrame(reason="dialog finished"))


class _Line:
    """The pipeline's line primitives (bot.dialog.actions.Line): frames pushed by the processor."""

    def __init__(self, processor: DialogProcessor) -> None:
        self.p = processor

    async def speak(self, say: Say) -> None:
        p = self.p
        if p.playback is not None:
            p.playback.sent(say.text, next((t.step for t in reversed(p.session.record.transcript)
                                            if t.kind == "prompt" and t.text == say.text), None), p.line)
        await self._queue(PromptFrame(text=say.text, key=say.key, barge_in=say.barge_in))

    async def wait(self, seconds: float) -> None:
        """Silence on the line, queued after the prompts before it (the player renders it)."""
        if self.p.playback is not None:
            self.p.playback.sent("", None, self.p.line)
        await self._queue(PromptFrame(key="pause", silence=seconds, barge_in=self.p.barge_in))

    async def _queue(self, frame: PromptFrame) -> None:
        p = self.p
        p.prompts_pending += 1
        p.prompt_sent_at = p.line
        p.barge_in = frame.barge_in
        p.no_input_deadline = None
        await p.push_frame(frame)

    async def listen(self, listen: Listen) -> None:
        self.p.listen = listen
        self.p.unheard_clip = None  # a new question: earlier wordless audio is not its evidence
        await self.p.push_frame(ExpectAnswerFrame(listen=listen), FrameDirection.UPSTREAM)

    async def escalate(self, escalate: Escalate) -> None:
        return None  # the runner transfers or queues the case (it sees the session's notes)

    async def end(self, end: End) -> None:
        self.p.listen = None
        self.p.ended = True
        await self.p.push_frame(EndWorkerFrame(reason=f"dialog ended: {end.outcome}"))
