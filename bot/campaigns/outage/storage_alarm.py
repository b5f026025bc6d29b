"""Storage health of this worker process: the alarm the console and the log show when the
database stops taking writes (disk full, database down or read-only), and its end.

    alarm = StorageHealth()            # one per worker process: `veribot serve` makes it (with its spool)
    alarm.as_dict()   # {"ok": False, "since": "...", "error": "...", "spooled": 2}

The dialer reports every write it tries (`storage_failed` / `storage_ok`), and a call's recorder
every write the database refuses during the call; while the storage is failing the worker takes
no new calls (outbound or inbound) and retries what it owes the database: final records of ended
calls and escalations kept in the spool (bot.campaigns.outage.escalation_spool). Calls in progress are told the
truth and end escalated (bot.telephony.calls.storage_fault): their answers are not spooled.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import utcnow

log = logging.getLogger("veribot.alarm")


@dataclass
class StorageHealth:
    ok: bool = True
    since: datetime | None = None  # when the current failure began
    error: str = ""  # the exception class and first line (no personal data in SQL errors we keep)
    spooled: int = 0  # escalations waiting in the spool

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        """A write failed: raise the alarm (logged once per failure, as an error)."""
        text = f"{type(exc).__name__}: {_first_line(exc)}"[:200]
        with self._lock:
            first = self.ok
            self.ok, self.error = False, text
            if first:
                self.since = utcnow()
        if first:
            log.error("ALARM storage: the database takes no writes (%s); no new calls are taken, "
                      "escalations are kept in the spool until it does", text)

    def recovered(self) -> None:
        with self._lock:
            was = not self.ok
            self.ok, self.since, self.error = True, None, ""
        if was:
            log.warning("storage alarm cleared: the database takes writes again; calls resume")

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "since": self.since.isoformat() if self.since else None,
                "error": self.error, "spooled": self.spooled}


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig or exc).splitlines() or [""])[0]

