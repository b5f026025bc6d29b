"""Campaign records: create with config defaults, look up, change status, count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from bot.campaigns.dialing.policy import CallingWindow, RetryPolicy
from storage.models import Attempt, AttemptState, AuditEvent, Campaign, CampaignStatus, Person, PersonState

DEFAULTS: dict[str, Any] = {
    "dialog_path": "dialogs/verification.zh-CN.yaml",
    "dialog_name": "verification",
    "window_start": "09:00",
    "window_end": "20:00",
    "timezone": "Asia/Shanghai",
    "concurrency": 4,
    "retention_days": 30,
}

# status changes allowed from the terminal/console: action -> (from states, to state)
TRANSITIONS = {
    "start": ((CampaignStatus.DRAFT, CampaignStatus.PAUSED, CampaignStatus.DONE), CampaignStatus.RUNNING),
    "pause": ((CampaignStatus.RUNNING,), CampaignStatus.PAUSED),
    "resume": ((CampaignStatus.PAUSED,), CampaignStatus.RUNNING),
    "cancel": ((CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED), CampaignStatus.CANCELLED),
}


class CampaignError(ValueError):
    pass


def campaign_defaults(section: dict[str, Any]) -> dict[str, Any]:
    """Config `[campaigns]` over the built-in defaults; validated."""
    d = {**DEFAULTS, **{k: v for k, v in section.items() if k in DEFAULTS or k == "retry"}}
    CallingWindow.parse(d["window_start"], d["window_end"], d["timezone"])
    RetryPolicy.from_json(d.get("retry"))
    if not isinstance(d["concurrency"], int) or d["concurrency"] < 1:
        raise CampaignError("[campaigns] concurrency must be an integer ≥ 1")
    d["dialog_name"] = script_name(d["dialog_path"]) or d["dialog_name"]
    return d


def script_name(path: Any) -> str | None:
    """The `name:` of the script at `path` (None when it does not load): a campaign's dialog name is
    its script's own, never a default that could pick another script's published version."""
    from bot.dialog.script import ScriptError, load_script

    try:
        return load_script(path).name
    except (ScriptError, OSError, ValueError):
        return None


def get_campaign(s: Session, name: str) -> Campaign:
    camp = s.exec(select(Campaign).where(Campaign.name == name)).first()
    if camp is None:
        raise CampaignError(f"no campaign named {name!r}")
    return camp


def ensure_campaign(s: Session, name: str, defaults: dict[str, Any]) -> Campaign:
    """The campaign `name`, created (status draft) with `defaults` when missing."""
    camp = s.exec(select(Campaign).where(Campaign.name == name)).first()
    if camp is not None:
        return camp
    if not name.strip() or len(name) > 200:
        raise CampaignError("a campaign name must be 1–200 characters")
    camp = Campaign(name=name, dialog_path=defaults["dialog_path"], dialog_name=defaults["dialog_name"],
                    window_start=defaults["window_start"], window_end=defaults["window_end"],
                    timezone=defaults["timezone"], concurrency=defaults["concurrency"],
                    retention_days=defaults["retention_days"], retry_policy=defaults.get("retry"))
    s.add(camp)
    s.flush()
    s.add(AuditEvent(actor="cli", action="campaign.create", target_type="campaign", target_id=str(camp.id)))
    return camp


def change_status(s: Session, name: str, action: str, actor: str = "cli", source: str = "") -> Campaign:
    if action not in TRANSITIONS:
        raise CampaignError(f"unknown action {action!r}")
    camp = get_campaign(s, name)
    allowed, target = TRANSITIONS[action]
    if camp.status not in allowed:
        raise CampaignError(f"cannot {action} campaign {name!r}: it is {camp.status}")
    camp.status = target
    s.add(camp)
    s.add(AuditEvent(actor=actor, action=f"campaign.{action}", target_type="campaign",
                     target_id=str(camp.id), source=source))
    return camp


def status_counts(s: Session, camp: Campaign) -> dict[str, Any]:
    """The `campaigns status --json` object: people, pending, completed, escalated, failed, ..."""
    by_state = dict(s.exec(select(Person.state, func.count()).where(Person.campaign_id == camp.id)
                           .group_by(Person.state)).all())
    active = s.exec(select(func.count()).select_from(Attempt).where(
        Attempt.campaign_id == camp.id,
        Attempt.state.in_((AttemptState.CLAIMED, AttemptState.DIALLING, AttemptState.IN_CALL)))).one()
    attempts = s.exec(select(func.count()).select_from(Attempt).where(Attempt.campaign_id == camp.id)).one()
    return {
        "campaign": camp.name,
        "status": camp.status,
        "people": sum(by_state.values()),
        "pending": by_state.get(PersonState.PENDING, 0),
        "in_progress": by_state.get(PersonState.IN_PROGRESS, 0),
        "in_call": active,
        "completed": by_state.get(PersonState.COMPLETED, 0),
        "escalated": by_state.get(PersonState.ESCALATED, 0),
        "failed": by_state.get(PersonState.FAILED, 0),
        "wrong_number": by_state.get(PersonState.WRONG_NUMBER, 0),
        "do_not_call": by_state.get(PersonState.DO_NOT_CALL, 0),
        "deleted": by_state.get(PersonState.DELETED, 0),
        "attempts": attempts,
        "window": f"{camp.window_start}-{camp.window_end} {camp.timezone}",
        "concurrency": camp.concurrency,
    }
