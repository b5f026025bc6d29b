"""The escalation queue in the database: list, claim, read, resolve, hand back.

The rows of a case (claim, release, resolve, with their audit rows) are written by the attempt
(bot.attempt.claiming, bot.attempt.resolution), in the console's one transaction. A claim is one
conditional UPDATE, so two operators can never hold one case; claims expire (`claim_minutes`)
so an abandoned case returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from audio.call_recording import recording_path
from bot import nlu
from bot.attempt import attempt as attempts
from bot.attempt.claiming import NotClaimable
from bot.attempt.resolution import AuditEntry, NotHolder
from bot.campaigns.dialing.policy import CallingWindow
from bot.console.labels import N_
from bot.console.slots import Field, FieldError, Gettext, parse_list
from storage.models import (
    Attempt,
    AuditEvent,
    Campaign,
    CampaignStatus,
    Escalation,
    EscalationStatus,
    Person,
    Result,
    Turn,
    User,
    utcnow,
)


class CaseError(ValueError):
    """A refused case action; `code` is stable for the UI, `msgid % params` is the English
    message (the console shows its translation)."""

    def __init__(self, code: str, msgid: str, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.code = code
        self.msgid = msgid
        self.params = params


class Resolution(StrEnum):
    CLOSE = "close"
    RETURN_TO_BOT = "return_to_bot"


CALLBACK_MARK = "callback promised"  # in Escalation.detail when the bot promised a call back (engine)


def queue(s: Session, now: datetime | None = None, callback_minutes: float = 120) -> list[dict[str, Any]]:
    """Open and claimed cases, most urgent first (priority, then age), with the person's name
    and risk category for the operators who work them; never a phone number or address.
    A resident promised a call back ("工作人员将在…内回电") has `due_minutes` left (< 0: overdue)."""
    now = now or utcnow()
    q = (
        select(Escalation, Campaign.name, User.username, Person.name, Person.risk_category, Attempt.detail)
        .join(Campaign, col(Campaign.id) == Escalation.campaign_id)
        .join(Attempt, col(Attempt.id) == Escalation.attempt_id)
        .join(Person, col(Person.id) == Escalation.person_id)
        .join(User, col(User.id) == Escalation.claimed_by, isouter=True)
        .where(col(Escalation.status).in_([EscalationStatus.OPEN, EscalationStatus.CLAIMED]))
        .order_by(col(Escalation.priority), col(Escalation.created_at), col(Escalation.id))
        .limit(500)
    )
    rows = []
    for esc, campaign, claimer, name, risk, call_detail in s.exec(q).all():
        live = esc.status == EscalationStatus.CLAIMED and esc.claim_expires_at and esc.claim_expires_at > now
        rows.append({
            "id": esc.id, "priority": esc.priority, "reason": esc.reason, "step": esc.step or "",
            "campaign": campaign, "campaign_id": esc.campaign_id,
            "created_at": esc.created_at.isoformat(timespec="seconds") + "Z",
            "age_minutes": int((now - esc.created_at).total_seconds() // 60),
            "claimed_by": claimer if live else None, "name": name, "risk_category": risk,
            "callback": CALLBACK_MARK in (esc.detail or ""),
            "transferred": call_detail == "transferred",  # the call went to an operator line (telephony runner)
            "due_minutes": int((esc.created_at + timedelta(minutes=callback_minutes) - now).total_seconds() // 60),
        })
    return rows


def claim(s: Session, case_id: int, user_id: int, minutes: float, now: datetime | None = None,
          audit: AuditEntry | None = None) -> None:
    """Claim (or renew one's own claim on) a case; CaseError('taken') if another holds it. The
    rows (the case and `audit`) are the attempt's to write (bot.attempt.claiming), in this one
    transaction."""
    try:
        attempts.Attempt.claim_case(s, case_id, user_id, minutes, now=now or utcnow(), audit=audit)
    except NotClaimable as exc:
        raise CaseError(exc.code, _CLAIM_REFUSED[exc.code]) from None


_CLAIM_REFUSED = {"missing": N_("no such case"), "closed": N_("this case is already closed"),
                  "taken": N_("another operator holds this case")}


def holder(s: Session, case_id: int, now: datetime | None = None) -> int | None:
    """Who holds a live claim on the case (None: nobody); CaseError('missing') if absent."""
    now = now or utcnow()
    esc = s.get(Escalation, case_id)
    if esc is None:
        raise CaseError("missing", N_("no such case"))
    if esc.status == EscalationStatus.CLAIMED and esc.claim_expires_at and esc.claim_expires_at > now:
        return esc.claimed_by
    return None


@dataclass
class CaseView:
    escalation: Escalation
    person: Person
    attempt: Attempt
    campaign: Campaign
    turns: list[Turn]
    slots: dict[str, Any]
    unresolved: list[str]
    claimer: str | None
    resolver: str | None


def load_case(s: Session, case_id: int) -> CaseView:
    esc = s.get(Escalation, case_id)
    if esc is None:
        raise CaseError("missing", N_("no such case"))
    person = s.get(Person, esc.person_id)
    attempt = s.get(Attempt, esc.attempt_id)
    campaign = s.get(Campaign, esc.campaign_id)
    assert person and attempt and campaign
    turns = list(s.exec(select(Turn).where(Turn.attempt_id == esc.attempt_id).order_by(col(Turn.seq))).all())
    slots = person_slots(s, esc.person_id)
    if esc.resolution:
        slots.update(esc.resolution)
    names = {u.id: u.username for u in s.exec(select(User).where(
        col(User.id).in_([i for i in (esc.claimed_by, esc.resolved_by) if i]))).all()}
    unresolved = [k for k, v in slots.items() if v in (None, "", {})]  # the view adds the script's unasked slots
    return CaseView(esc, person, attempt, campaign, turns, slots, unresolved,
                    names.get(esc.claimed_by), names.get(esc.resolved_by))


def person_slots(s: Session, person_id: int) -> dict[str, Any]:
    """The latest value of each slot over all of the person's attempts."""
    rows = s.exec(select(Result).where(Result.person_id == person_id).order_by(col(Result.id))).all()
    return {r.slot: r.value for r in rows}


def parse_slots(form: dict[str, str], fields: Sequence[Field], region: str = "CN",
                _: Gettext = str) -> dict[str, Any]:
    """Operator-entered values of the script's slots, checked; empty fields are left out."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f"slot_{f.slot}", "").strip()
        if not raw:
            continue
        if f.allowed is not None and raw not in f.allowed:
            raise CaseError("bad_value", N_("%(slot)s: choose one of the offered answers"), slot=f.slot)
        if f.expect == "count":
            if not raw.isdigit() or int(raw) > 1000:
                raise CaseError("bad_value", N_("%(slot)s: a whole number from 0 to 1000"), slot=f.slot)
            out[f.slot] = int(raw)
        elif f.expect == "address":
            out[f.slot] = typed_address(raw[:500])
        elif f.is_list:
            if raw == form.get(f"was_{f.slot}", "").strip():
                continue  # as shown: not a correction
            try:
                out[f.slot] = parse_list(f.expect, raw[:5000], region, _)
            except FieldError as exc:
                raise CaseError("bad_value", exc.msgid, slot=f.slot) from None
        else:
            out[f.slot] = raw[:500]
    return out


def typed_address(raw: str) -> dict[str, Any]:
    """An address the operator typed, parsed like a spoken one (province, city, district,
    detail), the text kept as typed in `raw`."""
    locale = "zh-CN" if any("\u4e00" <= ch <= "\u9fff" for ch in raw) else "en-US"
    value = nlu.parse(locale, "address", raw).value
    return {**value, "raw": raw} if isinstance(value, dict) else {"raw": raw}


def changed_only(entered: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The entered values that differ from what the case already holds: a field the operator
    left as it was is not a correction (an address keeps its parsed province and district)."""
    out = {}
    for slot, value in entered.items():
        now = current.get(slot)
        if isinstance(value, dict) and isinstance(now, dict) and value.get("raw") == now.get("raw"):
            continue
        if value == now or (now is not None and str(value) == str(now)):
            continue
        out[slot] = value
    return out


def notice_missing(slots: dict[str, Any], fields: Sequence[Field]) -> bool:
    """True when the script reads the prevention notice (`notice_ack`) and the resident did not
    acknowledge it (closing then needs a reason); a script without the notice never asks."""
    return any(f.slot == "notice_ack" for f in fields) and slots.get("notice_ack") not in ("yes", True)


def resolve(s: Session, case_id: int, user_id: int, slots: dict[str, Any], note: str,
            how: Resolution, now: datetime | None = None, outbox: bool = False,
            audit: AuditEntry | None = None) -> datetime | None:
    """Close the case or hand the person back to the bot; only the claim holder may. The rows
    (case, corrected slots, person, `audit`, the delivery of the corrected result when `outbox`)
    are the attempt's to write (bot.attempt.resolution), in this one transaction. A case handed
    back returns when the bot will call (None: when the paused campaign is resumed)."""
    now = now or utcnow()
    try:
        esc = attempts.Attempt.resolve(s, case_id, user_id, slots, note, close=how == Resolution.CLOSE, now=now,
                              outbox=outbox, audit=audit)
    except NotHolder:
        raise CaseError("not_holder", N_("claim this case before resolving it")) from None
    return _reopen_for(s, esc.campaign_id, now) if how == Resolution.RETURN_TO_BOT else None


def _reopen_for(s: Session, campaign_id: int, now: datetime) -> datetime | None:
    """When the bot will phone a handed-back person: a finished campaign is dialling again
    (audited), and the call starts as soon as its calling window allows; None while the
    campaign is paused, a draft or cancelled (it calls once resumed)."""
    camp = s.get(Campaign, campaign_id)
    assert camp is not None
    if camp.status == CampaignStatus.DONE:
        camp.status = CampaignStatus.RUNNING
        s.add(camp)
        s.add(AuditEvent(actor="console", action="campaign.reopened", target_type="campaign",
                         target_id=str(camp.id), detail="a case was handed back to the bot"))
    return next_call(camp, now)


def next_call(camp: Campaign, now: datetime | None = None) -> datetime | None:
    """When a person due now will be phoned: the next moment the calling window is open, or
    None while the campaign is not running."""
    if camp.status != CampaignStatus.RUNNING:
        return None
    return CallingWindow.parse(camp.window_start, camp.window_end, camp.timezone).next_open(now or utcnow())


def handed_back(s: Session, case_id: int) -> tuple[Campaign, datetime | None] | None:
    """For the queue's notice after a hand-back: the campaign and when the bot will call."""
    esc = s.get(Escalation, case_id)
    if esc is None or esc.status != EscalationStatus.RETURNED_TO_BOT:
        return None
    camp = s.get(Campaign, esc.campaign_id)
    return (camp, next_call(camp)) if camp is not None else None


def release(s: Session, case_id: int, user_id: int, audit: AuditEntry | None = None) -> bool:
    """Give a claimed case back to the queue without resolving it; False when `user_id` does
    not hold it (nothing changes). The attempt writes the rows (bot.attempt.claiming)."""
    return attempts.Attempt.release_case(s, case_id, user_id, audit=audit)


def call_recording_file(audio_dir: str | None, var_dir: Path) -> Path | None:
    """The call's whole stereo recording (audio/call_recording.py), if it was kept and is still there."""
    path = recording_path(audio_dir)
    return audio_file(str(path), audio_dir, var_dir) if path is not None else None


def audio_file(audio_path: str, audio_dir: str | None, var_dir: Path) -> Path | None:
    """The recorded file if it exists inside the call's audio directory or var/; else None."""
    real = Path(audio_path).resolve()
    roots = [Path(p).resolve() for p in (audio_dir, var_dir) if p]
    if real.is_file() and any(real.is_relative_to(r) for r in roots):
        return real
    return None
