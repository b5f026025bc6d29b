"""The agency's official number and badge, editable by an admin (audited): what residents are told
to call to check the call is real, and the badge the bot gives when asked who is calling. The
change applies to every call placed after it (bot/campaigns/scripts/agency_overrides.py)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.campaigns.scripts import agency_overrides
from bot.console.context import console
from bot.console.labels import N_
from bot.console.page import audit_event, gettext, render, require
from storage.models import Role

MSGIDS = (N_("The official number: 3 to 20 digits (a leading + and spaces or dashes allowed)."),
          N_("The badge: 1 to 20 letters or digits."))


async def _current(request: web.Request) -> dict[str, str]:
    cons = console(request)
    saved = await asyncio.to_thread(agency_overrides.load, cons.var_dir)
    return {k: saved.get(k) or str(cons.variables.get(k) or "") for k in agency_overrides.FIELDS}


async def page(request: web.Request, error: str = "", notice: str = "", status: int = 200,
               typed: dict[str, str] | None = None) -> web.Response:
    await require(request, Role.ADMIN)
    values = typed or await _current(request)
    return render(request, "agency.html", status=status, values=values, error=error, notice=notice,
                  agency=str(console(request).variables.get("agency") or ""))


async def save(request: web.Request) -> web.Response:
    await require(request, Role.ADMIN)
    form = await request.post()
    typed = {k: str(form.get(k, ""))[:40] for k in agency_overrides.FIELDS}
    _ = gettext(request)
    unspoken = await _would_say_empty(request, {k: v.strip() for k, v in typed.items()})
    if unspoken:  # "工号，" with nothing after it: refused, naming the field and where it is said
        return await page(request, error=" ".join(unspoken), status=400, typed=typed)
    try:
        values = agency_overrides.check(typed["callback_number"], typed["badge"])
    except agency_overrides.OverrideError as exc:
        return await page(request, error=_(str(exc)), status=400, typed=typed)
    before = await _current(request)
    changed = [k for k in agency_overrides.FIELDS if before.get(k) != values[k]]
    await asyncio.to_thread(agency_overrides.save, console(request).var_dir, values)
    console(request).variables.update(values)  # the console's own test calls and simulator too
    await audit_event(request, "agency.settings", "agency", "", detail="changed: " + ",".join(changed))
    return await page(request, notice=_(N_("Saved: calls placed from now on give this number and badge.")))


async def _would_say_empty(request: web.Request, values: dict[str, str]) -> list[str]:
    """What the scripts calls run (each dialog's active version, else its file) would say empty
    with these values, in the words of the dialog editor (bot.dialog.speakable, as lint and serve)."""
    from bot.console import dialogs
    from bot.console.page import db
    from bot.console.views_dialogs import spoken_problems
    from bot.console.views_recordings import script_of

    variables = {**console(request).variables, **values}
    files = await asyncio.to_thread(dialogs.script_files, console(request).dialogs_dir)
    out: list[str] = []
    for entry in await db(request, dialogs.list_dialogs, files):
        script = await script_of(request, entry.name, entry.locale, None)
        if script is None:
            continue
        found = [p for p in spoken_problems(request, script, variables) if p["var"] in agency_overrides.FIELDS]
        out += [f"{entry.slug}: {p['message']}" for p in found if f"{entry.slug}: {p['message']}" not in out]
    return out


def setup(app: web.Application) -> None:
    app.router.add_get("/agency", page)
    app.router.add_post("/agency", save)
