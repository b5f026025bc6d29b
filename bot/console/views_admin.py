"""The dashboard (everyone logged in) and the audit trail (admins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlmodel import Session, select

from bot.console import audit, stats
from bot.console.context import console
from bot.console.i18n import DEFAULT_ZONE, zone
from bot.console.labels import N_, word
from bot.console.page import current_user, db, gettext, labeller, render, require
from bot.console.security import query_int
from storage.models import Campaign, Role


def _campaigns(s: Session) -> list[Campaign]:
    from bot.campaigns.dialing.trial_call import SUFFIX

    return [c for c in s.exec(select(Campaign).order_by(Campaign.name)).all() if not c.name.endswith(SUFFIX)]


def _campaign_id(request: web.Request) -> int | None:
    try:
        return query_int(request, "campaign")
    except web.HTTPBadRequest:
        raise web.HTTPBadRequest(text=gettext(request)(N_("campaign must be a campaign id"))) from None


def _zone(request: web.Request) -> str:
    return str(console(request).campaigns_config.get("timezone") or DEFAULT_ZONE)


async def _figures(request: web.Request) -> dict[str, Any]:
    """The dashboard figures, with a label in the reader's language for every key shown."""
    figures = await db(request, stats.dashboard, _campaign_id(request), tz=_zone(request))
    labels = labeller(request)
    keys = {*figures["outcomes"], *figures["escalation_reasons"]}
    figures["labels"] = {k: word(k, labels._) for k in keys}
    figures["labels"].update({k: labels.value("health_code", k) for k in figures["health_codes"]})
    return figures


async def dashboard_page(request: web.Request) -> web.Response:
    current_user(request)
    campaigns = await db(request, _campaigns)
    return render(request, "dashboard.html", campaigns=campaigns, selected=_campaign_id(request),
                  figures=await _figures(request),
                  system=system_status(console(request).storage_alarm, console(request).admission, gettext(request)))


def system_status(alarm: Any, admission: Any = None, _: Any = None) -> dict[str, Any]:
    """This worker's ears per locale (which engine hears each language, or keys only), its
    storage alarm and, while its admission control holds new calls, why (in the reader's language)."""
    from bot.campaigns.dialing.holds import admission_line
    from bot.pipeline.ears import speech_status

    return {"speech": speech_status(), "storage": alarm.as_dict(),
            "holding": admission_line(admission, _) if admission is not None else ""}


async def dashboard_json(request: web.Request) -> web.Response:
    current_user(request)
    return web.json_response(await _figures(request))


def _date(value: str, tz: str, end: bool = False) -> datetime | None:
    """A yyyy-mm-dd (or yyyy-mm-ddTHH:MM) in the console's zone, as UTC; `end`: the day's end."""
    if not value:
        return None
    t = datetime.fromisoformat(value)  # ValueError: the caller says how to write it
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone(tz))
    if end and len(value) == 10:
        t += timedelta(days=1)
    return t.astimezone(UTC)


async def audit_page(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    q = request.query
    tz = _zone(request)
    try:
        since, until = _date(q.get("since", ""), tz), _date(q.get("until", ""), tz, end=True)
    except ValueError:
        return render(request, "audit.html", status=400, rows=[], query=dict(q),
                      error=gettext(request)(N_("Write dates as yyyy-mm-dd.")))
    f = audit.AuditFilter(
        actor=q.get("actor", "")[:100], action=q.get("action", "")[:100],
        target_type=q.get("target_type", "")[:50], since=since, until=until,
    )
    rows = await db(request, audit.search, f)
    return render(request, "audit.html", rows=rows, query=dict(q), error="")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard", dashboard_page)
    r.add_get("/dashboard.json", dashboard_json)
    r.add_get("/audit", audit_page)
