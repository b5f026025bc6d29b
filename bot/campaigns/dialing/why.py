"""Why a campaign is (not) dialling now: the dialer's own rule, read by the console's campaign
page and by `veribot campaigns status`. The reasons are English msgids (marked `N_` for the
console's catalogue, which translates them on the page); times are in the campaign's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from bot.campaigns.dialing.policy import CallingWindow
from storage.models import (
    Attempt,
    AttemptState,
    Campaign,
    CampaignStatus,
    DoNotCall,
    Person,
    PersonState,
    utcnow,
)


def N_(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Why:
    """Why the campaign is (not) dialling now: an English msgid with its values, for the page."""

    msgid: str
    params: dict[str, Any]
    dialling: bool = False
    next_call: datetime | None = None
    ok: bool = False  # nothing for the admin to do (calling, or finished)


def explain(s: Session, camp: Campaign, n: dict[str, Any], now: datetime | None = None) -> Why:
    """The first reason that keeps the dialer from calling anyone now (or that it is calling)."""
    now = now or utcnow()
    window = CallingWindow.parse(camp.window_start, camp.window_end, camp.timezone)
    win = {"start": camp.window_start, "end": camp.window_end, "zone": camp.timezone}

    def local(t: datetime) -> str:
        return t.astimezone(window.tz).strftime("%Y-%m-%d %H:%M")

    if camp.status == CampaignStatus.DRAFT:
        return Why(N_("Not started: press Start to begin calling."), {})
    if camp.status == CampaignStatus.PAUSED:
        return Why(N_("Paused: nobody is called until you resume the campaign."), {})
    if camp.status == CampaignStatus.CANCELLED:
        return Why(N_("Cancelled: nobody will be called."), {})
    if n["people"] == 0:
        return Why(N_("Nobody to call: upload a list of people."), {})
    if n["pending"] == 0 and n["in_progress"] == 0:
        if n.get("attempts", 1) == 0 and n.get("do_not_call", 0):  # nobody was called: they are all set aside
            return Why(N_("Nobody can be called: every number of the list is on the do-not-call list (%(n)s)."),
                       {"n": n["do_not_call"]}, ok=True)
        return Why(N_("Finished: everyone has been called."), {}, ok=True)
    failure = _trunk_failure(s, camp)
    if failure:
        return Why(N_("Calls cannot be placed: no SIP trunk is configured ([telephony] trunk in config.toml)."), {})
    if not window.allows(now):
        opens = window.next_open(now)
        return Why(N_("Outside the calling window (%(start)s–%(end)s, %(zone)s): calls resume at %(time)s."),
                   {**win, "time": local(opens)}, next_call=opens)
    due = s.exec(select(func.count()).select_from(Person).where(
        Person.campaign_id == camp.id, Person.state == PersonState.PENDING,
        or_(col(Person.next_attempt_at).is_(None), col(Person.next_attempt_at) <= now))).one()
    if n["in_progress"] == 0 and due == 0:
        # a number that said "wrong number" in another campaign rests there (suppression), it is no retry
        resting = select(DoNotCall.phone).where(col(DoNotCall.expires_at).is_not(None), col(DoNotCall.expires_at) > now)
        waiting = select(func.min(Person.next_attempt_at)).where(
            Person.campaign_id == camp.id, Person.state == PersonState.PENDING)
        retry = s.exec(waiting.where(col(Person.phone).not_in(resting))).one()
        rest = s.exec(waiting.where(col(Person.phone).in_(resting))).one()
        if retry is not None or rest is not None:
            msgid = (N_("Everyone left is waiting for a retry: the next call is at %(time)s.") if retry is not None
                     else N_("Everyone left is resting after answering \"wrong number\" in another campaign: "
                             "the next call is at %(time)s."))
            nxt = retry if retry is not None else rest
            nxt = nxt if nxt.tzinfo else nxt.replace(tzinfo=UTC)
            nxt = window.next_open(nxt)
            return Why(msgid, {"time": local(nxt)}, next_call=nxt)
    return Why(N_("Calling: %(lines)s of %(max)s lines in use, %(due)s people due now."),
               {"lines": n.get("in_call", 0), "max": camp.concurrency, "due": due}, dialling=True, ok=True)


def _trunk_failure(s: Session, camp: Campaign) -> bool:
    """True when the latest ended attempt failed for want of a SIP trunk."""
    last = s.exec(select(Attempt.detail).where(Attempt.campaign_id == camp.id, Attempt.state == AttemptState.ENDED)
                  .order_by(col(Attempt.id).desc()).limit(1)).first()
    return bool(last and "trunk" in last)
