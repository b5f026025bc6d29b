"""The do-not-call page: numbers no campaign dials (for good, or rested for a while after a wrong
number). Operators and admins add a number; admins take one off. Numbers arrive in POST bodies and
are shown masked; the audit names the entry by id (bot/campaigns/people/suppression.py)."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import Session

from bot.campaigns.people import suppression
from bot.campaigns.people.list_import import normalise_phone
from bot.console.context import console
from bot.console.labels import N_
from bot.console.page import client, db, gettext, render, require
from storage.models import DoNotCall, Role


async def page(request: web.Request, error: str = "", notice: str = "", status: int = 200,
               typed: str = "") -> web.Response:
    user = await require(request, Role.ADMIN, Role.OPERATOR)
    rows = await db(request, suppression.entries)
    return render(request, "dnc.html", status=status, rows=rows, error=error, notice=notice, typed=typed,
                  can_remove=user.role == Role.ADMIN)


async def add(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN, Role.OPERATOR)
    form = await request.post()
    _ = gettext(request)
    raw, reason = str(form.get("phone", ""))[:40], str(form.get("reason", ""))[:200]
    try:
        phone = normalise_phone(raw, str(console(request).campaigns_config.get("region") or "CN"))
    except ValueError:
        return await page(request, error=_(N_("That is not a telephone number.")), status=400, typed=raw)
    await db(request, lambda s: suppression.add(s, phone, actor=user.username, source=client(request),
                                                reason=reason))
    return await page(request, notice=_(N_("The number is on the list: no campaign will call it.")))


async def remove(request: web.Request) -> web.Response:
    user = await require(request, Role.ADMIN)
    form = await request.post()
    entry = str(form.get("entry", ""))
    if not entry.isdigit():
        raise web.HTTPBadRequest(text="entry must be a number")

    def take_off(s: Session) -> bool:
        row = s.get(DoNotCall, int(entry))
        return row is not None and suppression.remove(s, row.phone, actor=user.username, source=client(request))

    if not await db(request, take_off):
        raise web.HTTPNotFound(text=gettext(request)(N_("No such entry.")))
    return await page(request, notice=gettext(request)(N_("The number was taken off the list.")))


def setup(app: web.Application) -> None:
    app.router.add_get("/dnc", page)
    app.router.add_post("/dnc", add)
    app.router.add_post("/dnc/remove", remove)
