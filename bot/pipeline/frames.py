"""Frames of the call pipeline beyond pipecat's own. Times are on the call's audio
timeline: seconds of caller audio received since the call was answered."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.frames.frames import ControlFrame, DataFrame, SystemFrame

from bot.dialog.events import Listen


@dataclass
class CallerHangUpFrame(SystemFrame):
    """The far end hung up (BYE, websocket closed, media timeout). Pushed by transports."""

    reason: str = "hangup"


@dataclass
class CallerSpeechFrame(SystemFrame):
    """The caller started (`started=True`) or stopped speaking at `at` (line seconds)."""

    started: bool = True
    at: float = 0.0


@dataclass
class LineClockFrame(SystemFrame):
    """The line has carried caller audio up to `at` seconds (sent every ~100 ms)."""

    at: float = 0.0


@dataclass
class ExpectAnswerFrame(ControlFrame):
    """Upstream from the dialog to the recognizer: what the next answer may be."""

    listen: Listen | None = None


@dataclass
class CallerAnswerFrame(DataFrame):
    """What the recognizer heard in one caller turn."""

    text: str = ""
    confidence: float = 0.0
    step: str | None = None
    speech_start: float = 0.0
    speech_end: float = 0.0
    words: list[tuple[str, float]] = field(default_factory=list)
    clip: str | None = None  # the turn's audio, written before this frame is sent
    continues: bool = False  # the caller went on after a pause taken for the end of the previous answer


@dataclass
class PromptFrame(DataFrame):
    """Speak this prompt (rendered text; `key` is the unrendered template's key)."""

    text: str = ""
    key: str = ""
    barge_in: bool = True
    silence: float = 0.0  # no text: this many seconds of silence on the line (a `pause`)
