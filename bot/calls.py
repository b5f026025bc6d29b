"""The seam between the dialer and whatever places calls (fake runner in tests,
offline speech runner, SIP runner). The dialer builds a CallRequest; a runner
returns a CallResult. Every driver runs the conversation as `request.session()` (a
`bot.dialog.session.CallSession`), whose observers get each turn, each accepted slot value and
each escalation as it happens, so a crash mid-call still leaves them stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bot.dialog.engine import Parser
from bot.dialog.events import CallRecord, Note, Turn
from bot.dialog.session import CallSession, Observer, notify


class NetworkOutcome(StrEnum):
    """How the telephone network ended the attempt (before/around the conversation)."""

    ANSWERED = "answered"  # a conversation took place: see CallResult.record
    BUSY = "busy"  # 486, 600
    NO_ANSWER = "no_answer"  # 480, 408, ring timeout
    BAD_NUMBER = "bad_number"  # 404, 484, 604
    DECLINED = "declined"  # 603
    CONGESTION = "congestion"  # 503 (+ Retry-After), 502, 500
    MACHINE = "machine"  # answering machine detected
    POWERED_OFF = "powered_off"  # carrier announcement "您拨打的用户已关机" (bot.telephony.detection.carrier_announcements)
    INVALID_NUMBER = "invalid_number"  # "您拨打的号码是空号"
    UNREACHABLE = "unreachable"  # "暂时无法接通" / "不在服务区", or a SIT tone alone
    FAILED = "failed"  # anything else: transport error, timeout, internal error


@runtime_checkable
class StorageGuard(Protocol):
    """Whether the call's answers can still be stored, and the callback case kept durable before
    a resident is promised it (bot.attempt.Attempt; bot.telephony.calls.storage_fault)."""

    def storage_failing(self) -> bool: ...

    async def keep_callback(self, reason: str, step: str | None, detail: str) -> bool: ...


@dataclass(frozen=True)
class CallRequest:
    attempt_id: int | str
    phone: str  # E.164
    person: dict[str, Any]  # at least "name"; variables for the dialog
    script: Any  # bot.dialog.script.Script
    prefilled_slots: dict[str, Any] = field(default_factory=dict)
    on_turn: Callable[[Turn], None] | None = None  # turns only (kept for callers that want no more)
    variables: dict[str, str] = field(default_factory=dict)  # agency, callback_number, ...
    observers: tuple[Observer, ...] = ()  # get every Note: Turn, SlotFilled, Escalate
    parser: Parser | None = None  # answer understanding; None: bot.nlu.parse with the default area
    # human takes of the script's prompt pieces (text -> 8 kHz PCM), spoken instead of TTS
    # (audio/recordings.py; bot/campaigns/scripts/prompt_recordings.py stores them per dialog version)
    recordings: Mapping[str, bytes] = field(default_factory=dict)
    guard: StorageGuard | None = None  # the attempt that stores the call (None: nothing stored, not watched)
    record_call: bool = False  # keep the whole call as a stereo WAV in its clip folder (audio/call_recording.py)

    def session(self, *more: Observer) -> CallSession:
        """The call's dialog session, observed by this request's observers and `more`."""
        observers = [*self.observers, *more]
        if self.on_turn is not None:
            observers.append(_turns_only(self.on_turn))
        return CallSession(self.script, self.person, self.variables, self.prefilled_slots,
                           parser=self.parser, observers=observers)

    def tell(self, note: Any) -> None:
        """Hand a note from outside the session (the runner's `Answered`) to the call's observers."""
        notify(self.observers, note)


def _turns_only(on_turn: Callable[[Turn], None]) -> Observer:
    def observe(note: Note) -> None:
        if isinstance(note, Turn):
            on_turn(note)

    return observe


@dataclass(frozen=True)
class Answered:
    """Handed to a request's observers by a SIP runner when the callee answers: the dialog state
    (`bot.telephony.sip.call.SipCall.dialog_state`) a restarted worker needs to send the BYE
    if this worker dies during the call."""

    sip_dialog: dict[str, Any]


@dataclass
class CallResult:
    network: NetworkOutcome
    record: CallRecord | None = None
    sip_status: int | None = None
    retry_after: float | None = None  # seconds, from a 503 Retry-After
    audio_dir: str | None = None  # where caller clips / bot audio were kept
    detail: str = ""
    placed: bool = True  # False: this worker refused to place the call (its lines full): not an attempt


class CallRunner(Protocol):
    async def run(self, request: CallRequest) -> CallResult: ...
