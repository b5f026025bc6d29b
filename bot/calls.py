"""The seam between the dialer and whatever places calls (fake runner in tests,
offline speech runner, SIP runner). The dialer builds a CallRequest; a runner
returns a CallResult. Turns are handed to `on_turn` as they happen, so a crash
mid-call still leaves them stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.dialog.events import CallRecord, Turn


class NetworkOutcome(StrEnum):
    """How the telephone network ended the attempt (before/around the conversation)."""

    ANSWERED = "answered"  # a conversation took place: see CallResult.record
    BUSY = "busy"  # 486, 600
    NO_ANSWER = "no_answer"  # 480, 408, ring timeout
    BAD_NUMBER = "bad_number"  # 404, 484, 604
    DECLINED = "declined"  # 603
    CONGESTION = "congestion"  # 503 (+ Retry-After), 502, 500
    MACHINE = "machine"  # answering machine detected
    FAILED = "failed"  # anything else: transport error, timeout, internal error


@dataclass(frozen=True)
class CallRequest:
    attempt_id: int | str
    phone: str  # E.164
    person: dict[str, Any]  # at least "name"; variables for the dialog
    script: Any  # bot.dialog.script.Script
    prefilled_slots: dict[str, Any] = field(default_factory=dict)
    on_turn: Callable[[Turn], None] | None = None
    variables: dict[str, str] = field(default_factory=dict)  # agency, callback_number, ...


@dataclass
class CallResult:
    network: NetworkOutcome
    record: CallRecord | None = None
    sip_status: int | None = None
    retry_after: float | None = None  # seconds, from a 503 Retry-After
    audio_dir: str | None = None  # where caller clips / bot audio were kept
    detail: str = ""


class CallRunner(Protocol):
    async def run(self, request: CallRequest) -> CallResult: ...
