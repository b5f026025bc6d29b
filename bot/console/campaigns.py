"""Campaigns as the console shows them: list, state changes, progress counts, the
results table with filters, and the rows of an export. Database functions only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, col, func, select

from storage.models import Campaign, CampaignStatus, Person, PersonState, Result, utcnow

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((CampaignStatus.DRAFT,), CampaignStatus.RUNNING),
    "pause": ((CampaignStatus.RUNNING,), CampaignStatus.PAUSED),
    "resume": ((CampaignStatus.PAUSED,), CampaignStatus.RUNNING),
}
RESULT_SLOTS = ("identity", "residence", "health_code", "isolation", "nat_count", "nat_result", "notice_ack")
PAGE = 100


class CampaignError(ValueError):
    pass


def list_campaigns(s: Session) -> list[tuple[Campaign, dict[str, int]]]:
    camps = list(s.exec(select(Campaign).order_by(col(Campaign.created_at).desc())).all())
    return [(c, progress(s, c.id or 0)) for c in camps]


def get(s: Session, campaign_id: int) -> Campaign:
    camp = s.get(Campaign, campaign_id)
    if camp is None:
        raise LookupError("no such campaign")
    return camp


def create(s: Session, name: str, dialog_path: str) -> Campaign:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise CampaignError("name: 1-200 characters")
    if s.exec(select(Campaign).where(Campaign.name == name)).first():
        raise CampaignError(f"a campaign named {name!r} exists")
    camp = Campaign(name=name, dialog_path=dialog_path)
    s.add(camp)
    s.flush()
    return camp


def change_state(s: Session, campaign_id: int, action: str) -> Campaign:
    if action not in TRANSITIONS:
        raise CampaignError(f"unknown action {action!r}")
    camp = get(s, campaign_id)
    allowed, target = TRANSITIONS[action]
    if camp.status not in allowed:
        raise CampaignError(f"cannot {action} a campaign that is {camp.status}")
    camp.status = target
    s.add(camp)
    return camp


def progress(s: Session, campaign_id: int) -> dict[str, int]:
    """People per state, plus `people` (all) and `done` (no further calls planned)."""
    rows = s.exec(select(Person.state, func.count()).where(Person.campaign_id == campaign_id)
                  .group_by(Person.state)).all()
    counts = {str(st): 0 for st in PersonState}
    counts.update({state: n for state, n in rows})
    counts["people"] = sum(n for _, n in rows)
    counts["done"] = counts["people"] - counts[PersonState.PENDING] - counts[PersonState.IN_PROGRESS]
    return counts


@dataclass(frozen=True)
class ResultFilter:
    state: str = ""
    health_code: str = ""
    offset: int = 0


def results(s: Session, campaign_id: int, f: ResultFilter, limit: int = PAGE) -> list[dict[str, Any]]:
    """People of a campaign with their latest slot values, filtered."""
    q = select(Person).where(Person.campaign_id == campaign_id)
    if f.state:
        q = q.where(Person.state == f.state)
    if f.health_code:
        # JSON cast to text is the JSON literal ('"green"') on SQLite and PostgreSQL alike
        having = select(Result.person_id).where(Result.campaign_id == campaign_id, Result.slot == "health_code",
                                                 cast(Result.value, String) == json.dumps(f.health_code))
        q = q.where(col(Person.id).in_(having))
    q = q.order_by(col(Person.priority), col(Person.id)).offset(max(0, f.offset)).limit(limit)
    people = list(s.exec(q).all())
    slots = _slots(s, [p.id for p in people if p.id is not None])
    return [{"person": p, "slots": slots.get(p.id or 0, {})} for p in people]


def _slots(s: Session, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not person_ids:
        return out
    rows = s.exec(select(Result).where(col(Result.person_id).in_(person_ids)).order_by(col(Result.id))).all()
    for r in rows:
        out.setdefault(r.person_id, {})[r.slot] = r.value
    return out


def export_rows(s: Session, campaign_id: int) -> list[list[str]]:
    """Header + one row per person: what the health department receives."""
    header = ["name", "phone", "expected_address", "risk_category", "state", "attempts", "last_outcome",
              *RESULT_SLOTS]
    rows: list[list[str]] = [header]
    offset = 0
    while True:
        batch = results(s, campaign_id, ResultFilter(offset=offset), limit=1000)
        for r in batch:
            p = r["person"]
            values = [_cell(r["slots"].get(k)) for k in RESULT_SLOTS]
            rows.append([p.name, p.phone, p.expected_address, p.risk_category, p.state, str(p.attempt_count),
                         p.last_outcome or "", *values])
        if len(batch) < 1000:
            return rows
        offset += 1000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("raw", ""))
    return str(value)


def stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%SZ")
