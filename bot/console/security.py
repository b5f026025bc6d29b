"""Request-level protections for the console: security headers, request-size caps,
CSRF tokens with an Origin check, bounds on ids, and the console's settings.

Malformed forms and out-of-range ids are answered here, once for every view: a form that
cannot be parsed is a 400 (too big: 413, from aiohttp's `client_max_size`); an id in the path
beyond what the database holds is a 404, a numeric query value out of range a 400.

Every state change is a POST that must carry the CSRF token of its session (or, before
login, the double-submit token of the login form) and must come from our own origin.
GET never changes state.
"""

from __future__ import annotations

import hmac
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

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
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite raises OverflowError past 2**63
NUMERIC_QUERY = ("offset", "campaign", "back", "test_call")  # besides every *_id


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


async def read_form(request: web.Request) -> None:
    """Parse (and cache) a posted form; a malformed one is a clean 400."""
    try:
        await request.post()
    except (ValueError, LookupError, HttpProcessingError) as exc:
        log.warning("refused %s %s: malformed form (%s)", request.method, request.path, type(exc).__name__)
        raise web.HTTPBadRequest(text="malformed form data") from None


async def submitted_token(request: web.Request) -> str:
    if request.content_type in FORM_TYPES:
        await read_form(request)  # views read the cached form later
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def out_of_range(value: str) -> bool:
    """A digit string no database id can be (too large, or not ASCII digits)."""
    return value.isdigit() and (not value.isascii() or len(value) > 10 or int(value) > MAX_ID)


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    """The one way a view reads a number from the query: digits within 0..MAX_ID, else a 400
    (the bounds middleware already refused an out-of-range value of any NUMERIC_QUERY name)."""
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or out_of_range(raw):
        raise web.HTTPBadRequest(text=f"{name} must be a number from 0 to {MAX_ID}")
    return int(raw)


def local_path(target: str, fallback: str = "/") -> str:
    """`target` if a browser can only read it as a path on this site, else `fallback`. Refused:
    anything not starting with one "/", "//" or "/\\" (another host), a backslash anywhere, any
    control character, space or tab (browsers drop tabs and newlines: "/%09/host" is "//host"),
    and anything urllib sees a scheme or host in."""
    if not target.startswith("/") or target[1:2] in ("/", "\\") or "\\" in target:
        return fallback
    if any(c <= " " or c == "\x7f" or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Zs") for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@web.middleware
async def bounds_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Ids in the path and numbers in the query within the database's range, checked once here
    so no view turns 99999999999999999999 into a database OverflowError."""
    if any(k.endswith("_id") and out_of_range(v) for k, v in request.match_info.items()):
        raise web.HTTPNotFound(text="no such item")
    if any((k in NUMERIC_QUERY or k.endswith("_id")) and out_of_range(v) for k, v in request.query.items()):
        raise web.HTTPBadRequest(text="number out of range")
    return await handler(request)


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
