"""Follow-up campaigns (次密接): the contacts a tracing call names become people to call.

When an attempt's `contacts` slot (a list of {"name", "relation", "phone"}, phone in E.164; see the
`contacts` expect of bot.nlu) names someone with a phone, `add_contacts` (called by the recorder in
the attempt's final commit) puts them into the source campaign's follow-up campaign:

- the follow-up campaign is named "<source> · 次密接", created on first use with the source's
  dialog, calling window, time zone, retry policy, retention and status (so a running trace keeps
  running); contacts named in a follow-up campaign stay in that same campaign (no 次次密接 chain);
- a contact is not added twice: not when the same E.164 phone is already a person of the
  follow-up campaign, nor when it is a person still to be called (pending / in progress) in any
  running, paused or draft campaign;
- who named them is always kept (`FollowUpSource`: source person, attempt, campaign, relation),
  also for a contact who was already there, so a contact named by three people has three sources.
New people get risk category 次密接 and priority 2. Nothing personal is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from storage.models import (
    AuditEvent,
    Campaign,
    CampaignStatus,
    FollowUpSource,
    Person,
    PersonState,
)

log = logging.getLogger(__name__)

SUFFIX = " · 次密接"
CATEGORY = "次密接"
PRIORITY = 2
_ACTIVE_PEOPLE = (PersonState.PENDING, PersonState.IN_PROGRESS)
_LIVE_CAMPAIGNS = (CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
_COPIED = ("dialog_name", "dialog_path", "concurrency", "window_start", "window_end", "timezone",
           "retry_policy", "retention_days", "status")


def followup_name(source_name: str) -> str:
    return source_name if source_name.endswith(SUFFIX) else source_name[: 200 - len(SUFFIX)] + SUFFIX


def followup_campaign(s: Session, source: Campaign, now: datetime) -> Campaign:
    """The follow-up campaign of `source` (itself when `source` is one), created on first use."""
    name = followup_name(source.name)
    if name == source.name:
        return source
    camp = s.exec(select(Campaign).where(Campaign.name == name)).first()
    if camp is None:
        camp = Campaign(name=name, description=f"次密接：由「{source.name}」的流调电话提到的人员"[:500],
                        created_at=now, **{k: getattr(source, k) for k in _COPIED})
        s.add(camp)
        s.flush()
        s.add(AuditEvent(at=now, actor="system", action="campaign.followup_created", target_type="campaign",
                         target_id=str(camp.id), detail=f"source campaign {source.id}"))
    return camp


def usable(contacts: Any) -> list[dict[str, Any]]:
    """The contacts of a `contacts` slot value that can be called: a dict with an E.164 phone."""
    if not isinstance(contacts, list):
        return []
    out = []
    for c in contacts:
        phone = c.get("phone") if isinstance(c, dict) else None
        if isinstance(phone, str) and phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16:
            out.append(c)
    return out


def add_contacts(s: Session, *, source_campaign_id: int, source_person_id: int, source_attempt_id: int,
                 contacts: Any, now: datetime) -> dict[str, int]:
    """Add the callable contacts to the follow-up campaign (see the module doc). Returns counts
    {"added", "existing"} (existing: already a person there or active elsewhere; source recorded)."""
    found = usable(contacts)
    counts = {"added": 0, "existing": 0}
    if not found:
        return counts
    source = s.get(Campaign, source_campaign_id)
    if source is None:
        return counts
    camp = followup_campaign(s, source, now)
    for c in found:
        phone = c["phone"]
        person = _existing(s, camp.id, phone)
        if person is None:
            person = Person(campaign_id=camp.id, name=str(c.get("name") or "")[:200], phone=phone,
                            risk_category=CATEGORY, priority=PRIORITY, created_at=now, updated_at=now,
                            notes=f"由人员#{source_person_id}（通话#{source_attempt_id}）提到")
            s.add(person)
            s.flush()
            counts["added"] += 1
        else:
            counts["existing"] += 1
        if person.id == source_person_id:
            continue  # a person who gives their own number names nobody new
        seen = s.exec(select(FollowUpSource.id).where(FollowUpSource.person_id == person.id,
                                                      FollowUpSource.source_person_id == source_person_id)).first()
        if seen is None:
            s.execute(insert(FollowUpSource), [{
                "person_id": person.id, "source_person_id": source_person_id, "source_attempt_id": source_attempt_id,
                "source_campaign_id": source_campaign_id, "relation": str(c.get("relation") or "")[:50],
                "created_at": now}])
    log.info("attempt %s: %d contact(s) added to follow-up campaign %s, %d already listed",
             source_attempt_id, counts["added"], camp.id, counts["existing"])
    return counts


def _existing(s: Session, campaign_id: int, phone: str) -> Person | None:
    here = s.exec(select(Person).where(Person.campaign_id == campaign_id, Person.phone == phone)).first()
    if here is not None:
        return here
    return s.exec(
        select(Person).join(Campaign, Campaign.id == Person.campaign_id)
        .where(Person.phone == phone, Person.state.in_(_ACTIVE_PEOPLE), Campaign.status.in_(_LIVE_CAMPAIGNS))
        .order_by(Person.id)
    ).first()


def sources_of(s: Session, person_id: int) -> list[FollowUpSource]:
    """Who named this person, oldest first."""
    return list(s.exec(select(FollowUpSource).where(FollowUpSource.person_id == person_id)
                       .order_by(FollowUpSource.id)))
