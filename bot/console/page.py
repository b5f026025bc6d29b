"""What every page handler uses: database work off the loop, the current user and role
checks, audit rows and rendering. Kept apart from `app.py` (which wires the handlers) so
that the views import this and `app.py` imports the views, never the other way round."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.console import audit, auth, i18n
from bot.console.context import LOCALE, PRE_CSRF, USER, console
from bot.console.labels import N_, Labeller, ScriptLabels
from bot.console.security import SESSION_COOKIE
from storage.db import is_storage_failure

log = logging.getLogger("veribot.console")
T = TypeVar("T")


async def db(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args)` in one transaction in the console's database thread (retried when
    busy; its own thread, so no page waits in front of a call's answers, see storage.db)."""
    return await console(request).database.arun(lambda s: fn(s, *args, **kwargs), lane="console")


async def degradable(request: web.Request, fn: Callable[..., Any], *args: Any) -> bool:
    """A write the page can do without (last login, session activity, a view's audit row): when
    the database refuses it for want of space the storage alarm is raised and False returned, so
    the console degrades to read-only instead of failing. True: written."""
    try:
        await db(request, fn, *args)
    except SQLAlchemyError as exc:
        if not is_storage_failure(exc):
            raise
        console(request).storage_alarm.failed(exc)  # the worker's alarm
        log.warning("storage refuses writes: %s skipped on %s", getattr(fn, "__name__", "write"), request.path)
        return False
    return True


async def start_session(request: web.Request, user_id: int, source: str) -> str:
    """A new session row; while the database refuses writes, a session held in memory (auth.HELD)."""
    try:
        return await db(request, auth.start_session, user_id, source)
    except SQLAlchemyError as exc:
        if not is_storage_failure(exc):
            raise
        console(request).storage_alarm.failed(exc)  # the worker's alarm
        log.warning("storage refuses writes: user id %s gets a session held in memory", user_id)
        return auth.start_held_session(user_id)


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
    await audit_as(request, actor, action, target_type, target_id, detail)


async def audit_as(request: web.Request, actor: str, action: str, target_type: str = "",
                   target_id: str | int = "", detail: str = "") -> None:
    """An audit row; while the database refuses writes it goes to the log instead (no personal data
    is in an audit row: ids, the actor's login name, the address) and the page still renders."""
    if not await degradable(request, audit.record, actor, action, target_type, target_id, client(request), detail):
        log.warning("audit (kept in the log, storage refuses writes): %s %s %s:%s from %s %s",
                    actor, action, target_type, target_id, client(request), detail)


async def audit_view(request: web.Request, action: str, target_type: str = "", target_id: str | int = "",
                     detail: str = "", *, every: float = 0.0) -> None:
    """The audit row of a view of personal data. A view that is polled (`every` > 0 seconds) is
    audited once per user and target in that time, not once per poll."""
    if every > 0:
        seen = console(request).recent_views
        now = time.monotonic()
        for key in [k for k, until in seen.items() if until <= now]:
            del seen[key]
        key = (current_user(request).id or 0, action, str(target_id))
        if key in seen:
            return
        seen[key] = now + every
    await audit_event(request, action, target_type, target_id, detail)


async def require(request: web.Request, *roles: str) -> auth.SessionUser:
    """The user if their role is one of `roles`; else 403 and an audit row."""
    user = current_user(request)
    if user.role not in roles:
        await audit_event(request, "denied", "page", request.path)
        log.warning("denied %s to user id %s (role %s)", request.path, user.id, user.role)
        raise web.HTTPForbidden(text=gettext(request)(N_("not allowed for your role")))
    return user


def locale(request: web.Request) -> str:
    """zh-CN or en-US: the user's choice (cookie), else the browser's Accept-Language, else zh-CN."""
    if LOCALE not in request:
        request[LOCALE] = i18n.negotiate(request.headers.get("Accept-Language", ""),
                                         request.cookies.get(i18n.LANG_COOKIE, ""))
    return request[LOCALE]


def gettext(request: web.Request) -> Callable[[str], str]:
    """The request's translation function, for messages built in Python."""
    return i18n.translations(locale(request)).gettext


def labeller(request: web.Request, script: ScriptLabels | None = None) -> Labeller:
    return Labeller(gettext(request), locale(request), script or ScriptLabels())


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    user = request.get(USER)
    loc = locale(request)
    context.setdefault("labels", labeller(request))
    html = console(request).jinja[loc].get_template(template).render(
        user=user, csrf=user.csrf if user else request.get(PRE_CSRF, ""), path=request.path, lang=loc,
        **context
    )
    return web.Response(text=html, status=status, content_type="text/html")


async def session_user(request: web.Request, touch: bool = True) -> auth.SessionUser | None:
    """The user of the request's session cookie, if that session is still live."""
    settings = console(request).settings
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    check = await console(request).database.arun(  # a read: any cookie, no write lock
        lambda s: auth.find_session(s, token, timedelta(minutes=settings.idle_minutes),
                                    timedelta(hours=settings.absolute_hours)), write=False)
    if check.expired or (touch and check.touch):
        await degradable(request, auth.touch_session, token, check.expired)
    return check.user
