"""Escalations the database refused (disk full, database down): kept until it takes writes.

A resident who was told "staff will call you" must reach the operator's queue. When the
Escalation row cannot be written, the recorder hands it to the spool: kept in memory and, when
a path is configured, appended to a JSON-lines file (fsynced) so a restart does not lose it
either. `replay(db)` writes what is kept (idempotent: one escalation per attempt) and empties
the spool; the dialer calls it on every tick. Put the spool file on another filesystem than
the database (a full disk refuses both); if the file cannot be written the row stays in memory
and the error is logged. `keep` says whether the row is durable (fsynced to the file): only then
may a caller be promised a call back while the database is down (bot.telephony.calls.storage_fault).
One spool per worker process, made by `veribot serve` and handed to the dialer and the callbacks;
it carries the process's storage alarm (`spool.alarm`), which counts what it keeps.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from bot.campaigns.outage.storage_alarm import StorageHealth
from storage.models import Escalation

log = logging.getLogger(__name__)


class EscalationSpool:
    def __init__(self, path: str | Path | None = None, alarm: StorageHealth | None = None) -> None:
        self.path = Path(path) if path else None
        self.alarm = alarm if alarm is not None else StorageHealth()
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._durable: set[Any] = set()  # attempt ids whose row is fsynced to the file
        if self.path is not None and self.path.exists():
            self._rows = [_decode(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
            self._durable = {r["attempt_id"] for r in self._rows}
        self.alarm.spooled = len(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def keep(self, row: dict[str, Any]) -> bool:
        """Keep an escalation the database refused; True when it is on disk (survives a restart)."""
        with self._lock:
            if any(r["attempt_id"] == row["attempt_id"] for r in self._rows):
                return row["attempt_id"] in self._durable
            self._rows.append(row)
            self.alarm.spooled = len(self._rows)
            if self.path is not None:
                try:
                    with open(self.path, "a", encoding="utf-8") as f:
                        f.write(json.dumps(row, default=_encode) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
                    self._durable.add(row["attempt_id"])
                except OSError as exc:
                    log.error("escalation spool %s not writable (%s): kept in memory", self.path, exc.strerror)
            durable = row["attempt_id"] in self._durable
        log.warning("escalation of attempt %s kept in the spool until the database takes writes", row["attempt_id"])
        return durable

    def replay(self, db: Any) -> int:
        """Write the kept escalations; returns how many. Raises (and keeps them) if the database
        still refuses."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return 0

        def write(s: Any) -> None:
            for row in rows:
                put_escalation(s, row)

        db.run(write)
        with self._lock:
            self._rows = [r for r in self._rows if r not in rows]
            self._durable &= {r["attempt_id"] for r in self._rows}
            self.alarm.spooled = len(self._rows)
            if self.path is not None:
                try:
                    self.path.write_text("".join(json.dumps(r, default=_encode) + "\n" for r in self._rows),
                                         encoding="utf-8")
                except OSError as exc:
                    log.error("escalation spool %s not rewritable (%s)", self.path, exc.strerror)
        log.warning("%d escalation(s) from the spool written to the database", len(rows))
        return len(rows)


def put_escalation(s: Session, row: dict[str, Any]) -> None:
    """The attempt's escalation (one per attempt): inserted when the dialog escalates, kept (its
    first time, its status) when the end of the call or a replay from the spool writes it again."""
    found = s.exec(select(Escalation.id).where(Escalation.attempt_id == row["attempt_id"])).first()
    if found is None:
        s.execute(insert(Escalation), [row])


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(type(value).__name__)


def _decode(line: str) -> dict[str, Any]:
    return json.loads(line, object_hook=lambda d: datetime.fromisoformat(d["$dt"]) if set(d) == {"$dt"} else d)
