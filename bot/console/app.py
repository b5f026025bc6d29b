"""The web console's aiohttp application: middlewares, templates, routes.

`build_app(database, settings, ...)` gives an Application; `veribot serve` runs it. Handlers
(the `views_*` modules) do database work through `page.db(request, fn, ...)`, in the
database's thread, so the loop keeps serving the live queue and the dialer while a query runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.console import auth, views_accounts, views_admin, views_campaigns, views_cases, views_dialogs
from bot.console.context import CONSOLE, USER, Console
from bot.console.page import render, session_user
from bot.console.security import Handler, apply_headers, csrf_middleware
from bot.console.settings import ConsoleSettings
from bot.privacy import mask_phone
from storage.db import Database

log = logging.getLogger("veribot.console")

HERE = Path(__file__).parent
PUBLIC_PATHS = ("/login", "/setup", "/static/", "/healthz", "/favicon.ico")


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
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (403, 404) and "text/html" in request.headers.get("Accept", ""):
            return render(request, "error.html", status=exc.status, message=exc.text or exc.reason)
        raise


def build_app(database: Database, settings: ConsoleSettings | None = None, *, dialogs_dir: Path | None = None,
              var_dir: Path | None = None, variables: dict[str, str] | None = None,
              campaigns_config: dict[str, Any] | None = None, results_outbox: bool = False) -> web.Application:
    settings = settings or ConsoleSettings()
    app = web.Application(
        client_max_size=settings.max_upload_mb * 1024 * 1024,
        middlewares=[error_middleware, session_middleware, csrf_middleware],
    )
    app.on_response_prepare.append(apply_headers)
    jinja = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    jinja.filters["mask"] = lambda phone: mask_phone(phone or "")
    jinja.filters["utc"] = format_utc
    static = app.router.add_static("/static/", HERE / "static", name="static", append_version=True)
    jinja.globals["static"] = lambda name: str(static.url_for(filename=name))
    app[CONSOLE] = Console(
        database=database, settings=settings, jinja=jinja,
        dialogs_dir=dialogs_dir or Path("dialogs"), var_dir=var_dir or Path("var"),
        variables=dict(variables or {}), campaigns_config=dict(campaigns_config or {}),
        throttle=auth.LoginThrottle(settings.login_max_failures, settings.login_lockout_seconds),
        results_outbox=results_outbox,
    )
    for module in (views_accounts, views_cases, views_dialogs, views_campaigns, views_admin):
        module.setup(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/favicon.ico", no_icon)
    return app


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)


def format_utc(t: datetime | None) -> str:
    if t is None:
        return ""
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S")
