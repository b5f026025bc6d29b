"""The web console's aiohttp application: middlewares, templates, routes.

`build_app(database, settings, ...)` gives an Application; `veribot serve` runs it. Handlers
do database work through `db(request, fn, ...)`, in the database's thread, so the loop
keeps serving the live queue and the dialer while a query runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from aiohttp import web

from bot.console import audit, auth
from bot.console.context import CONSOLE, PRE_CSRF, USER, Console, console
from bot.console.security import SESSION_COOKIE, Handler, apply_headers, bounds_middleware, csrf_middleware
from bot.console.settings import ConsoleSettings
from bot.telephony.settings import mask_phone
from storage.db import Database

log = logging.getLogger("veribot.console")

HERE = Path(__file__).parent
T = TypeVar("T")
PUBLIC_PATHS = ("/login", "/setup", "/static/", "/healthz", "/favicon.ico")


async def db(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args)` in one transaction in the database's thread (retried when busy)."""
    return await console(request).database.arun(lambda s: fn(s, *args, **kwargs))


def client(request: web.Request) -> str:
    return request.remote or ""


def current_user(request: web.Request) -> auth.SessionUser:
    user = request.get(USER)
    if user is None:
        raise web.HTTPFound("/login")
    return user


async def audit_event(request: web.Request, action: str, target_type: str = "", target_id: str | int = "",
                      detail: str = "") -> None:
    user = request.get(USER)
    actor = user.username if user else "anonymous"
    await db(request, audit.record, actor, action, target_type, target_id, client(request), detail)


async def require(request: web.Request, *roles: str) -> auth.SessionUser:
    """The user if their role is one of `roles`; else 403 and an audit row."""
    user = current_user(request)
    if user.role not in roles:
        await audit_event(request, "denied", "page", request.path)
        log.warning("denied %s to user id %s (role %s)", request.path, user.id, user.role)
        raise web.HTTPForbidden(text="not allowed for your role")
    return user


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    user = request.get(USER)
    html = console(request).jinja.get_template(template).render(
        user=user, csrf=user.csrf if user else request.get(PRE_CSRF, ""), path=request.path, **context
    )
    return web.Response(text=html, status=status, content_type="text/html")


async def session_user(request: web.Request, touch: bool = True) -> auth.SessionUser | None:
    """The user of the request's session cookie, if that session is still live."""
    settings = console(request).settings
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await db(request, auth.resume_session, token, timedelta(minutes=settings.idle_minutes),
                    timedelta(hours=settings.absolute_hours), touch)


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
        middlewares=[error_middleware, session_middleware, csrf_middleware, bounds_middleware],
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
    from bot.console import views_accounts, views_admin, views_campaigns, views_cases, views_dialogs

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
