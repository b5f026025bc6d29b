"""An attempt nothing stores: `veribot call` (one call from recorded caller audio, offline, no
database) builds one like the dialer, the inbound path and the console's test call build theirs,
so every call is placed the same way (`Attempt.request`): the person, the script, the clip
directory and the attempt's observer and storage guard travel on the attempt, not beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.attempt.attempt import Attempt
from bot.campaigns.dialing.claims import Claim
from bot.dialog.events import Note


class OfflineAttempt(Attempt):
    """Keeps what the call's session hands it (`notes`, in order) in memory; its storage never
    fails and it promises no callback (nothing would keep it)."""

    def __init__(self, attempt_id: str, person: dict[str, Any], script: Any, clip_dir: Path) -> None:
        super().__init__(None, Claim(attempt_id=attempt_id, person_id=0, campaign_id=0, phone="",  # type: ignore[arg-type]
                                     attempt_number=1, priority=0, person=person), script)
        self.audio_dir = str(clip_dir)
        self.clip_dir = clip_dir
        self.notes: list[Note] = []

    def record(self, note: Note) -> None:
        self.notes.append(note)

    observe = record

    def escalate(self, esc: Any) -> None:
        self.notes.append(esc)

    def storage_failing(self) -> bool:
        return False

    async def keep_callback(self, reason: str, step: str | None, detail: str) -> bool:
        return False  # nothing stored: no callback may be promised from it

    async def settle(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("an offline attempt stores nothing: it has no end to settle")
