"""Campaigns as the console shows them, on top of the campaigns area (`bot.campaigns.store`,
`bot.campaigns.results.export`): list with counts, create, state changes, the paginated and filtered
results table. Database functions only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, func, select

from bot.campaigns import store
from bot.campaigns.dialing.policy import CallingWindow, PolicyError
from bot.campaigns.dialing.why import Why, explain  # noqa: F401 - the dialer's rule, read by the views
from bot.console import retries
from bot.console.labels import N_, WORDS, Gettext, word
from storage.models import (
    Attempt,
    AuditEvent,
    Campaign,
    Person,
    PersonState,
    Result,
    Turn,
    utcnow,
)

TRANSITIONS = store.TRANSITIONS
CampaignError = store.CampaignError
PAGE = 100


def counts(s: Session, camp: Campaign) -> dict[str, Any]:
    """`veribot campaigns status` counts, plus `done` (people with no further call planned)."""
    n = store.status_counts(s, camp)
    n["done"] = n["people"] - n["pending"] - n["in_progress"]
    n["waiting"] = n["pending"] + n["in_progress"]
    n["ended_other"] = n["wrong_number"] + n["failed"] + n["do_not_call"]  # settled, neither completed nor escalated
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
        raise CampaignError(N_("A campaign name must be 1–200 characters."))
    if s.exec(select(Campaign).where(Campaign.name == name)).first():
        raise CampaignError(N_("A campaign with this name exists already: choose another name."))
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
    who: str = ""  # part of a name, or digits of a phone number (sent in a POST body, never a URL)


def results(s: Session, campaign_id: int, f: ResultFilter, limit: int = PAGE) -> list[dict[str, Any]]:
    """People of a campaign with their latest slot values (an operator's correction wins), filtered."""
    q = select(Person).where(Person.campaign_id == campaign_id, col(Person.purged).is_(False))
    if f.state:
        q = q.where(Person.state == f.state)
    if f.who.strip():
        who = f.who.strip()
        digits = "".join(ch for ch in who if ch.isdigit())
        match = col(Person.name).contains(who, autoescape=True)
        q = q.where(or_(match, col(Person.phone).contains(digits, autoescape=True)) if len(digits) >= 3 else match)
    if f.health_code:
        # JSON cast to text is the JSON literal ('"green"') on SQLite and PostgreSQL alike
        having = select(Result.person_id).where(Result.campaign_id == campaign_id, Result.slot == "health_code",
                                                 cast(Result.value, String) == json.dumps(f.health_code))
        q = q.where(col(Person.id).in_(having))
    q = q.order_by(col(Person.priority), col(Person.id)).offset(max(0, f.offset)).limit(limit)
    people = list(s.exec(q).all())
    slots: dict[int, dict[str, Any]] = {}
    calls: dict[int, int] = {}
    ids = [p.id for p in people if p.id is not None]
    if ids:
        for r in s.exec(select(Result).where(col(Result.person_id).in_(ids)).order_by(col(Result.id))).all():
            slots.setdefault(r.person_id, {})[r.slot] = r.value
        calls = dict(s.exec(select(Attempt.person_id, func.max(Attempt.id)).where(col(Attempt.person_id).in_(ids))
                            .group_by(Attempt.person_id)).all())
    return [{"person": p, "slots": slots.get(p.id or 0, {}), "call": calls.get(p.id or 0)} for p in people]


def call(s: Session, attempt_id: int) -> dict[str, Any]:
    """One call with its person, campaign, transcript and the person's other calls (LookupError if absent)."""
    attempt = s.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError("no such call")
    person, camp = s.get(Person, attempt.person_id), s.get(Campaign, attempt.campaign_id)
    turns = list(s.exec(select(Turn).where(Turn.attempt_id == attempt_id).order_by(col(Turn.seq))).all())
    others = [i for i in s.exec(select(Attempt.id).where(Attempt.person_id == attempt.person_id)
                                .order_by(col(Attempt.id))).all() if i != attempt_id]
    return {"attempt": attempt, "person": person, "camp": camp, "turns": turns, "others": others}


def states() -> list[str]:
    return [str(s) for s in PersonState]


def stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%SZ")


def latest_attempts(s: Session, campaign_id: int, limit: int = 20) -> list[tuple[Attempt, str]]:
    q = (select(Attempt, Person.name).join(Person, col(Person.id) == Attempt.person_id)
         .where(Attempt.campaign_id == campaign_id).order_by(col(Attempt.id).desc()).limit(limit))
    return [(a, name) for a, name in s.exec(q).all()]


FAILURE_DETAILS: dict[str, str] = {
    "trunk": N_("No SIP trunk is configured, so a phone number cannot be dialled ([telephony] trunk)."),
    "interrupted": N_("The dialer stopped during the call."),
    "runner error": N_("Internal error while calling (see the server log)."),
}


def failure_reason(a: Attempt, _: Gettext) -> str:
    """Why an attempt ended the way it did, in the reader's language ("" for a normal end)."""
    detail = a.detail or ""
    for needle, msgid in FAILURE_DETAILS.items():
        if needle in detail:
            return _(msgid)
    parts = []
    if a.escalation_reason:
        parts.append(word(a.escalation_reason, _))
    if a.network_outcome and a.network_outcome != "answered":
        parts.append(word(a.network_outcome, _))
    if a.sip_status and a.sip_status >= 300:  # a refused call's code helps the trunk's engineer; 200 says nothing
        parts.append(f"SIP {a.sip_status}")
    if detail and not parts:
        parts.append(word(detail.split(":")[0].strip(), _) if detail.split(":")[0].strip() in WORDS else detail)
    return " · ".join(parts)


def update_settings(s: Session, campaign_id: int, form: dict[str, str], actor: str, source: str) -> list[str]:
    """Change the calling window, time zone, lines, retries, priority and whole-call recording of a campaign (audited with the names of
    the fields changed); CampaignError with an English msgid when a value is not usable."""
    camp = get(s, campaign_id)
    start, end = form.get("window_start", "").strip(), form.get("window_end", "").strip()
    tz, lines = form.get("timezone", "").strip(), form.get("concurrency", "").strip()
    try:
        window = CallingWindow.parse(start, end, tz)
    except PolicyError:
        raise CampaignError(N_("The calling window needs times as HH:MM and a time zone such as Asia/Shanghai.")) from None
    start, end = window.start.strftime("%H:%M"), window.end.strftime("%H:%M")  # 9:00 -> 09:00
    if not lines.isdigit() or not 1 <= int(lines) <= 200:
        raise CampaignError(N_("Lines: a whole number from 1 to 200."))
    new: dict[str, Any] = {"window_start": start, "window_end": end, "timezone": tz, "concurrency": int(lines),
                           "record_calls": form.get("record_calls") == "1"}  # an unticked box is not sent
    policy, priority = retries.parse(form, camp)  # RetryFormError: the view words it
    if policy is not None:
        new["retry_policy"] = policy
    if priority is not None:
        new["priority"] = priority
    changed = [k for k in new if getattr(camp, k) != new[k]]
    for k in changed:
        setattr(camp, k, new[k])
    if changed:
        s.add(camp)
        s.add(AuditEvent(actor=actor, action="campaign.settings", target_type="campaign", target_id=str(camp.id),
                         source=source, detail="changed: " + ",".join(changed)))
    return changed
