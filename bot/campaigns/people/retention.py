"""Retention: erase people whose records are past their campaign's retention period, or on request.

What goes: the person, their attempts, turns (transcript), results, escalations, webhook payloads,
and the audio files/dirs those attempts recorded. What stays: anonymised counts in `Tally`
(outcome per person, and slot values without addresses) and an audit row with numbers only.
Files are removed before the rows, so a failed run leaves the paths to retry with.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from storage.models import (
    Attempt,
    AuditEvent,
    Campaign,
    CampaignStatus,
    CodeGuess,
    Escalation,
    FollowUpSource,
    InboundCall,
    Person,
    PersonState,
    Result,
    Tally,
    Turn,
    WebhookDelivery,
)

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class PurgeReport:
    people: int = 0
    attempts: int = 0
    files: int = 0

    def to_json(self) -> dict[str, int]:
        return {"people": self.people, "attempts": self.attempts, "files": self.files}


def due_people(s: Session, now: datetime) -> list[int]:
    """People past retention: settled (or in a finished campaign) and untouched for retention_days."""
    ids: list[int] = []
    for camp in s.exec(select(Campaign)).all():
        cutoff = now - timedelta(days=camp.retention_days)
        settled = Person.state.notin_((PersonState.PENDING, PersonState.IN_PROGRESS))
        if camp.status in (CampaignStatus.CANCELLED, CampaignStatus.DONE):
            settled = Person.state != PersonState.IN_PROGRESS
        ids += s.exec(select(Person.id).where(Person.campaign_id == camp.id, Person.updated_at < cutoff,
                                              settled)).all()
    return ids


def files_of(s: Session, person_ids: list[int]) -> list[str]:
    att = s.exec(select(Attempt.audio_dir).where(Attempt.person_id.in_(person_ids),
                                                  Attempt.audio_dir.is_not(None))).all()
    clips = s.exec(select(Turn.audio_path).join(Attempt, Attempt.id == Turn.attempt_id).where(
        Attempt.person_id.in_(person_ids), Turn.audio_path.is_not(None))).all()
    return [p for p in [*att, *clips] if p]


def erase(s: Session, person_ids: list[int]) -> int:
    """Delete the people and everything about them, keeping anonymised counts. Returns attempts deleted."""
    if not person_ids:
        return 0
    _tally(s, person_ids)
    attempt_ids = s.exec(select(Attempt.id).where(Attempt.person_id.in_(person_ids))).all()
    for i in range(0, len(attempt_ids), BATCH):
        chunk = attempt_ids[i:i + BATCH]
        s.execute(delete(Turn).where(Turn.attempt_id.in_(chunk)))
        s.execute(delete(WebhookDelivery).where(WebhookDelivery.attempt_id.in_(chunk)))
        # a kept caller who keyed an erased person's call code keeps their row, without the link
        s.execute(update(InboundCall).where(InboundCall.code_attempt_id.in_(chunk)).values(code_attempt_id=None))
    # callbacks of the erased people (their number, when they called) and the follow-up links
    # they are part of: the rows go with them (the foreign keys would otherwise stop the purge)
    s.execute(delete(InboundCall).where(InboundCall.person_id.in_(person_ids)))
    s.execute(delete(FollowUpSource).where(or_(FollowUpSource.person_id.in_(person_ids),
                                               FollowUpSource.source_person_id.in_(person_ids))))
    s.execute(delete(Result).where(Result.person_id.in_(person_ids)))
    s.execute(delete(Escalation).where(Escalation.person_id.in_(person_ids)))
    # the call-code guesses of their numbers (a lockout row names a number) go with them
    phones = s.exec(select(Person.phone).where(Person.id.in_(person_ids))).all()
    for i in range(0, len(phones), BATCH):
        s.execute(delete(CodeGuess).where(CodeGuess.phone.in_(phones[i:i + BATCH])))
    s.execute(delete(Attempt).where(Attempt.person_id.in_(person_ids)))
    s.execute(delete(Person).where(Person.id.in_(person_ids)))
    return len(attempt_ids)


def _tally(s: Session, person_ids: list[int]) -> None:
    counts: Counter[tuple[int, str, str]] = Counter()
    for cid, state in s.exec(select(Person.campaign_id, Person.state).where(Person.id.in_(person_ids))).all():
        counts[(cid, "outcome", state)] += 1
    latest: dict[tuple[int, str], tuple[int, Any]] = {}
    for r in s.exec(select(Result).where(Result.person_id.in_(person_ids)).order_by(Result.id)).all():
        latest[(r.person_id, r.slot)] = (r.campaign_id, r.value)
    for (_pid, slot), (cid, value) in latest.items():
        counts[(cid, f"slot:{slot}", _anonymous(value))] += 1
    existing = {(t.campaign_id, t.metric, t.value): t for t in s.exec(
        select(Tally).where(Tally.campaign_id.in_({k[0] for k in counts}))).all()} if counts else {}
    for (cid, metric, value), n in counts.items():
        row = existing.get((cid, metric, value)) or Tally(campaign_id=cid, metric=metric, value=value, count=0)
        row.count += n
        s.add(row)


def _anonymous(value: Any) -> str:
    """A slot value without personal detail: addresses reduce to their district (or "given")."""
    if isinstance(value, dict):
        return str(value.get("district") or "given")[:100]
    return str(value)[:100]


def remove_files(paths: list[str], roots: list[Path]) -> int:
    """Delete recorded audio, but only inside the configured roots (never elsewhere)."""
    n = 0
    allowed = [r.resolve() for r in roots]
    for raw in paths:
        p = Path(raw).resolve()
        if not any(p == r or r in p.parents for r in allowed):
            log.warning("not deleting audio outside the audio roots (attempt file kept)")
            continue
        if p.is_dir():
            shutil.rmtree(p)
            n += 1
        elif p.exists():
            p.unlink()
            n += 1
    return n


def purge(db: Any, now: datetime, roots: list[Path], person_ids: list[int] | None = None,
          actor: str = "purge", why: str = "retention") -> PurgeReport:
    """Erase `person_ids` (on request) or everyone past retention; files first, then rows, in batches."""
    ids = person_ids if person_ids is not None else db.run(lambda s: due_people(s, now), write=False)
    report = PurgeReport()
    for i in range(0, len(ids), BATCH):
        chunk = ids[i:i + BATCH]
        paths = db.run(lambda s, c=chunk: files_of(s, c), write=False)
        report.files += remove_files(paths, roots)
        report.attempts += db.run(lambda s, c=chunk: erase(s, c))
        report.people += len(chunk)
    db.run(lambda s: s.add(AuditEvent(actor=actor, action="purge", target_type="person",
                                      detail=f"{why}: people={report.people} attempts={report.attempts} "
                                             f"files={report.files}")))
    log.info("purge (%s): %d people, %d attempts, %d files", why, report.people, report.attempts, report.files)
    return report


def audio_roots(config: Any) -> list[Path]:
    """Where call audio may live (retention deletes only there): the var dir and [campaigns] audio_roots."""
    return [config.var_dir, *config.campaigns.audio_roots]
