"""Events into and actions out of the dialog state machine, and the call record.

This is the seam between the pure dialog core and everything that does I/O
(speech pipeline, telephony, storage, console). Plain frozen dataclasses only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    COMPLETED = "completed"
    ESCALATED = "escalated"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"  # the resident asked not to be called again
    HUNG_UP = "hung_up"


class EscalationReason(StrEnum):
    UNCOOPERATIVE = "uncooperative"
    REQUESTED_HUMAN = "requested_human"
    UNRESOLVED = "unresolved"


class Speaker(StrEnum):
    BOT = "bot"
    CALLER = "caller"


# ---------------------------------------------------------------- events in
@dataclass(frozen=True)
class CallAnswered:
    at: float | None = None


@dataclass(frozen=True)
class Utterance:
    """What the recognizer heard: words (space-separated for Mandarin is fine)."""

    text: str
    confidence: float = 1.0
    at: float | None = None
    audio: str | None = None  # the caller's clip of this answer (a file path), when kept
    # The caller went on speaking after a pause the bot had already taken for the end of the previous
    # answer (within that question's full end-of-turn silence): the rest of that answer, most likely.
    continues: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")


@dataclass(frozen=True)
class Dtmf:
    digit: str
    at: float | None = None

    def __post_init__(self) -> None:
        if len(self.digit) != 1 or self.digit not in "0123456789*#ABCD":
            raise ValueError(f"not a DTMF digit: {self.digit!r}")


@dataclass(frozen=True)
class NoInput:
    at: float | None = None
    audio: str | None = None  # sounds the recognizer found no words in, when kept (evidence)


@dataclass(frozen=True)
class HangUp:
    at: float | None = None


Event = CallAnswered | Utterance | Dtmf | NoInput | HangUp


# -------------------------------------------------------------- actions out
@dataclass(frozen=True)
class Say:
    """Speak a prompt. `key` identifies the unrendered template (for prompt caches)."""

    text: str
    key: str
    barge_in: bool = True


@dataclass(frozen=True)
class Listen:
    """Wait for the caller's answer to the current ask."""

    step: str
    expect: str  # yes_no | health_code | count | test_result | address | text
    locale: str
    no_input_timeout: float
    end_silence: float
    dtmf_keys: tuple[str, ...] = ()
    open_answer: bool = False  # True where free decoding is needed (address, text)
    # End of turn by meaning: once what was heard so far is a complete answer (`complete(text)`,
    # asked by the listener on the recognizer's partial text) the turn ends after this shorter
    # silence; None: always `end_silence`.
    end_silence_complete: float | None = None
    complete: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Escalate:
    """The dialog hands the resident to a person: why, at which step (also the record's escalation)."""

    reason: EscalationReason
    step: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reason": str(self.reason), "step": self.step, "detail": self.detail}


@dataclass(frozen=True)
class End:
    outcome: Outcome


Action = Say | Listen | Escalate | End


# ------------------------------------------------------------------ record
@dataclass(frozen=True)
class Turn:
    speaker: Speaker
    text: str
    step: str | None = None
    kind: str = "speech"  # speech | dtmf | silence | hangup | prompt
    parse: dict[str, Any] | None = None
    confidence: float | None = None
    at: float | None = None
    audio: str | None = None  # caller turns: the answer's audio clip, when kept
    filled: dict[str, Any] | None = None  # caller turns: the slots this turn filled (or corrected)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["speaker"] = str(self.speaker)
        return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class SlotFilled:
    """A slot's value as the dialog accepted it (after any confirmation), handed to observers at
    once so whoever stores it keeps every heard answer even if the call dies a moment later.
    `prefilled`: the value came from an earlier call (the question was skipped), not from this one."""

    slot: str
    value: Any
    step: str | None = None
    prefilled: bool = False


@dataclass(frozen=True)
class PromptPlayed:
    """A bot prompt as the line carried it (the pipeline's PlaybackLog, not the session): line
    seconds since answer when its audio started and stopped (`complete` False: cut by barge-in
    or hang-up), and for evidence steps the exact audio played (a WAV path and its SHA-256)."""

    text: str
    step: str | None
    started_at: float
    ended_at: float
    complete: bool = True
    audio: str | None = None
    sha256: str | None = None


Note = Turn | SlotFilled | Escalate | PromptPlayed  # what a call's observers are handed, as it happens


@dataclass
class CallRecord:
    """The result of one conversation: what `simulate`/`call`/`dial` print as JSON."""

    dialog: str
    dialog_version: str
    locale: str
    outcome: Outcome | None = None
    escalation: Escalate | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    transcript: list[Turn] = field(default_factory=list)
    last_step: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome) if self.outcome else None,
            "escalation": self.escalation.to_json() if self.escalation is not None else None,
            "slots": dict(self.slots),
            "transcript": [t.to_json() for t in self.transcript],
            "dialog": self.dialog,
            "dialog_version": self.dialog_version,
            "locale": self.locale,
            "last_step": self.last_step,
        }
