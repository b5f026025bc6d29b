"""The dashboard (everyone logged in) and the audit trail (admins)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlmodel import Session, select

from bot.console import audit, stats
from bot.console.page import current_user, db, render, require
from storage.models import Campaign, Role


def _campaigns(s: Session) -> list[Campaign]:
    return list(s.exec(select(Campaign).order_by(Campaign.name)).all())


def _campaign_id(request: web.Request) -> int | None:
    raw = request.query.get("campaign", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise web.HTTPBadRequest(text="campaign must be a campaign id")
    return int(raw)


async def dashboard_page(request: web.Request) -> web.Response:
    current_user(request)
    campaigns = await db(request, _campaigns)
    figures = await db(request, stats.dashboard, _campaign_id(request))
    return render(request, "dashboard.html", campaigns=campaigns, selected=_campaign_id(request),
                  figures=figures)


async def dashboard_json(request: web.Request) -> web.Response:
    current_user(request)
    return web.json_response(await db(request, stats.dashboard, _campaign_id(request)))


def _date(value: str, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{field}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc


async def audit_page(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    q = request.query
    since, until = _date(q.get("since", ""), "since"), _date(q.get("until", ""), "until")
    f = audit.AuditFilter(
        actor=q.get("actor", "")[:100], action=q.get("action", "")[:100],
        target_type=q.get("target_type", "")[:50],
        since=since.replace(tzinfo=UTC) if since and since.tzinfo is None else since,
        until=until.replace(tzinfo=UTC) if until and until.tzinfo is None else until,
    )
    rows = await db(request, audit.search, f)
    return render(request, "audit.html", rows=rows, query=dict(q))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard", dashboard_page)
    r.add_get("/dashboard.json", dashboard_json)
    r.add_get("/audit", audit_page)
