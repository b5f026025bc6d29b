"""The web console's aiohttp application: middlewares, templates, routes.

`build_app(database, settings, ...)` gives an Application; `veribot serve` runs it. Handlers
(the `views_*` modules) do database work through `page.db(request, fn, ...)`, in the
database's thread, so the loop keeps serving the live queue and the dialer while a query runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.campaigns.outage.storage_alarm import StorageHealth
from bot.campaigns.scripts import agency_overrides
from bot.console import (
    auth,
    i18n,
    labels,
    views_accounts,
    views_admin,
    views_agency,
    views_campaigns,
    views_cases,
    views_dialogs,
    views_dnc,
)
from bot.console.context import CONSOLE, USER, Console, console
from bot.console.labels import N_
from bot.console.page import gettext, locale, render, session_user
from bot.console.security import Handler, apply_headers, bounds_middleware, csrf_middleware, local_path
from bot.console.settings import ConsoleSettings
from bot.privacy import mask_phone
from storage.db import Database, is_storage_failure

log = logging.getLogger("veribot.console")

HERE = Path(__file__).parent
PUBLIC_PATHS = ("/login", "/setup", "/static/", "/healthz", "/favicon.ico", "/lang/")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[USER] = await session_user(request)
    if request[USER] is None and not request.path.startswith(PUBLIC_PATHS):
        if request.method in ("GET", "HEAD") and not request.path.endswith((".json", "/stream")):
            raise web.HTTPFound("/login")
        raise web.HTTPUnauthorized(text="log in first")
    return await handler(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status in (403, 404) and "text/html" in request.headers.get("Accept", ""):
            message = gettext(request)(exc.text or exc.reason or "")
            return render(request, "error.html", status=exc.status, message=message)
        raise
    except SQLAlchemyError as exc:  # a full disk: the page says so (503), the console stays up read-only
        if not is_storage_failure(exc):
            raise
        request.app[CONSOLE].storage_alarm.failed(exc)  # the worker's alarm (its dashboard, its banner)
        log.warning("storage refuses writes: %s %s answered 503", request.method, request.path)
        message = gettext(request)(N_("The database refuses writes (storage alarm): nothing was changed. "
                                      "Pages can still be read."))
        response = render(request, "error.html", status=503, message=message)
        response.headers["Retry-After"] = "60"
        return response
    if not response.prepared:
        response.headers.setdefault("Content-Language", locale(request))
        response.headers["Vary"] = "Accept-Language, Cookie"
    return response


async def choose_language(request: web.Request) -> web.Response:
    """The header's language link: remember the choice in a cookie (a year), back to the page."""
    chosen = request.match_info["locale"]
    response = web.HTTPSeeOther(local_path(request.query.get("next", "/")))
    response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="Lax",
                        httponly=True, secure=console(request).settings.secure_cookies)
    raise response


def build_app(database: Database, settings: ConsoleSettings | None = None, *, dialogs_dir: Path | None = None,
              var_dir: Path | None = None, variables: dict[str, str] | None = None,
              campaigns_config: dict[str, Any] | None = None, results_outbox: bool = False,
              storage_alarm: StorageHealth | None = None) -> web.Application:
    settings = settings or ConsoleSettings()
    app = web.Application(
        client_max_size=settings.max_upload_mb * 1024 * 1024,
        middlewares=[error_middleware, session_middleware, csrf_middleware, bounds_middleware],
    )
    app.on_response_prepare.append(apply_headers)
    static = app.router.add_static("/static/", HERE / "static", name="static", append_version=True)
    zone = str((campaigns_config or {}).get("timezone") or i18n.DEFAULT_ZONE)
    alarm = storage_alarm if storage_alarm is not None else StorageHealth()
    jinja = {loc: templates(loc, lambda name: str(static.url_for(filename=name)), zone, alarm) for loc in i18n.LOCALES}
    app[CONSOLE] = Console(
        database=database, settings=settings, jinja=jinja,
        dialogs_dir=dialogs_dir or Path("dialogs"), var_dir=var_dir or Path("var"),
        variables={**(variables or {}), **agency_overrides.load(var_dir or Path("var"))},  # an admin's number/badge
        campaigns_config=dict(campaigns_config or {}),
        throttle=auth.LoginThrottle(settings.login_max_failures, settings.login_lockout_seconds),
        results_outbox=results_outbox,
        storage_alarm=alarm,
    )
    for module in (views_accounts, views_cases, views_dialogs, views_campaigns, views_admin, views_dnc, views_agency):
        module.setup(app)
    app.router.add_get(r"/lang/{locale:zh-CN|en-US}", choose_language)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/favicon.ico", no_icon)
    return app


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)


def templates(locale: str, static_url: Callable[[str], str], zone: str,
              alarm: StorageHealth | None = None) -> jinja2.Environment:
    """The page templates in one language: `{% trans %}`/`_()` from that locale's catalog;
    `|when(tz)` shows a UTC time in a zone (the console's `[campaigns] timezone` by default)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}  # Chinese as written
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    _ = i18n.translations(locale).gettext
    env.filters["mask"] = lambda phone: mask_phone(phone or "")
    env.filters["when"] = lambda t, tz=None, seconds=False: markupsafe.Markup('<span class="t">%s</span>') % (
        i18n.local_time(t, tz or zone, seconds))
    env.filters["basename"] = lambda path: Path(str(path or "")).name
    env.filters["word"] = lambda value: labels.word(value, _)
    env.filters["action"] = lambda action: labels.audit_action(action, _)
    env.filters["actor"] = lambda name: labels.actor(name or "", _)
    env.filters["audit_detail"] = lambda detail: labels.audit_detail(detail or "", _)
    env.filters["dnc_reason"] = lambda kind, reason: labels.dnc_reason(kind or "", reason or "", _)
    env.filters["esc_detail"] = lambda detail: labels.escalation_detail(detail or "", _)
    env.globals["static"] = static_url
    env.globals["msg"] = _  # a message for the page's scripts: translated, not %-formatted
    env.globals["zone"] = lambda tz=None: i18n.zone_label(tz or zone)
    env.globals["default_zone"] = zone
    env.globals["storage_alarm"] = lambda: alarm is not None and not alarm.ok  # the banner on every page (base.html)
    return env
