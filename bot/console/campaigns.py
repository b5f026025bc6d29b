"""Campaigns as the console shows them, on top of the campaigns area (`bot.campaigns.store`,
`bot.campaigns.export`): list with counts, create, state changes, the paginated and filtered
results table. Database functions only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, col, select

from bot.campaigns import store
from bot.campaigns.export import SLOTS, _cell
from storage.models import AuditEvent, Campaign, Person, PersonState, Result, utcnow

TRANSITIONS = store.TRANSITIONS
CampaignError = store.CampaignError
RESULT_SLOTS = SLOTS
PAGE = 100
cell = _cell


def counts(s: Session, camp: Campaign) -> dict[str, Any]:
    """`veribot campaigns status` counts, plus `done` (people with no further call planned)."""
    n = store.status_counts(s, camp)
    n["done"] = n["people"] - n["pending"] - n["in_progress"]
    return n


def list_campaigns(s: Session) -> list[tuple[Campaign, dict[str, Any]]]:
    camps = s.exec(select(Campaign).order_by(col(Campaign.created_at).desc())).all()
    return [(c, counts(s, c)) for c in camps]


def get(s: Session, campaign_id: int) -> Campaign:
    camp = s.get(Campaign, campaign_id)
    if camp is None:
        raise LookupError("no such campaign")
    return camp


def create(s: Session, name: str, section: dict[str, Any], actor: str, source: str) -> Campaign:
    """A new draft campaign with the `[campaigns]` defaults; refused if the name is taken."""
    name = name.strip()
    if not name or len(name) > 200:
        raise CampaignError("a campaign name must be 1–200 characters")
    if s.exec(select(Campaign).where(Campaign.name == name)).first():
        raise CampaignError(f"a campaign named {name!r} exists")
    defaults = store.campaign_defaults(section)
    camp = Campaign(name=name, **{k: defaults[k] for k in (
        "dialog_path", "dialog_name", "window_start", "window_end", "timezone", "concurrency", "retention_days")},
        retry_policy=defaults.get("retry"))
    s.add(camp)
    s.flush()
    s.add(AuditEvent(actor=actor, action="campaign.create", target_type="campaign", target_id=str(camp.id),
                     source=source))
    return camp


def change_state(s: Session, campaign_id: int, action: str, actor: str, source: str) -> Campaign:
    """start / pause / resume / cancel (audited by the campaigns store)."""
    return store.change_status(s, get(s, campaign_id).name, action, actor=actor, source=source)


@dataclass(frozen=True)
class ResultFilter:
    state: str = ""
    health_code: str = ""
    offset: int = 0


def results(s: Session, campaign_id: int, f: ResultFilter, limit: int = PAGE) -> list[dict[str, Any]]:
    """People of a campaign with their latest slot values (an operator's correction wins), filtered."""
    q = select(Person).where(Person.campaign_id == campaign_id, col(Person.purged).is_(False))
    if f.state:
        q = q.where(Person.state == f.state)
    if f.health_code:
        # JSON cast to text is the JSON literal ('"green"') on SQLite and PostgreSQL alike
        having = select(Result.person_id).where(Result.campaign_id == campaign_id, Result.slot == "health_code",
                                                 cast(Result.value, String) == json.dumps(f.health_code))
        q = q.where(col(Person.id).in_(having))
    q = q.order_by(col(Person.priority), col(Person.id)).offset(max(0, f.offset)).limit(limit)
    people = list(s.exec(q).all())
    slots: dict[int, dict[str, Any]] = {}
    ids = [p.id for p in people if p.id is not None]
    if ids:
        for r in s.exec(select(Result).where(col(Result.person_id).in_(ids)).order_by(col(Result.id))).all():
            slots.setdefault(r.person_id, {})[r.slot] = r.value
    return [{"person": p, "slots": slots.get(p.id or 0, {})} for p in people]


def states() -> list[str]:
    return [str(s) for s in PersonState]


def stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%SZ")
