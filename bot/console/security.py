"""Request-level protections for the console: security headers, request-size caps,
CSRF tokens with an Origin check, and the console's settings.

Every state change is a POST that must carry the CSRF token of its session (or, before
login, the double-submit token of the login form) and must come from our own origin.
GET never changes state.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.console.context import USER, console
from bot.console.settings import ConsoleSettings

log = logging.getLogger("veribot.console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SESSION_COOKIE = "vb_session"
PRE_CSRF_COOKIE = "vb_precsrf"  # double-submit token for forms shown before login
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def own_origin(request: web.Request, settings: ConsoleSettings) -> str:
    if settings.public_origin:
        return settings.public_origin.rstrip("/")
    return f"{request.scheme}://{request.host}"


def origin_ok(request: web.Request, settings: ConsoleSettings) -> bool:
    """The Origin (or, failing that, the Referer) must be our own; a request with
    neither is allowed only because the token check still applies."""
    expected = own_origin(request, settings)
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == expected
    referer = request.headers.get("Referer")
    if referer is not None:
        return referer == expected or referer.startswith(expected + "/")
    return True


async def submitted_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def expected_token(request: web.Request) -> str | None:
    """The token the request must carry: the session's, or the pre-login cookie's."""
    user = request.get(USER)
    if user is not None:
        return str(user.csrf)
    return request.cookies.get(PRE_CSRF_COOKIE)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS:
        return await handler(request)
    settings = console(request).settings
    if not origin_ok(request, settings):
        log.warning("refused cross-origin %s %s", request.method, request.path)
        raise web.HTTPForbidden(text="cross-origin request refused")
    expected = expected_token(request)
    got = await submitted_token(request)
    if not expected or not got or not hmac.compare_digest(expected, got):
        log.warning("refused %s %s: missing or wrong CSRF token", request.method, request.path)
        raise web.HTTPForbidden(text="missing or invalid CSRF token")
    return await handler(request)


async def apply_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: security headers on every response, pages and errors alike."""
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")  # no-referrer would make browsers send Origin: null
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if console(request).settings.secure_cookies:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith("/static/"):
        h.setdefault("Cache-Control", "public, max-age=3600")
    else:
        # every other page may carry personal data: never store it
        h["Cache-Control"] = "no-store"
        h.setdefault("Pragma", "no-cache")


def set_cookie(response: web.StreamResponse, settings: ConsoleSettings, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        secure=settings.secure_cookies, samesite="Strict")
