"""Twilio request signatures (X-Twilio-Signature) on the Media Streams websocket upgrade.

Twilio signs every request it makes with the account's auth token: base64(HMAC-SHA1(token,
URL + each POST parameter's name and value, sorted by name)). The websocket upgrade is a GET,
so only the URL counts — the URL Twilio was given (`public_url` + path and query), not the
one a proxy in front of us rewrote. Written by hand (a dozen lines) rather than importing the
whole `twilio` SDK for its RequestValidator; checked against Twilio's documented example.

    app.router.add_get("/twilio/media", signed(handler, token, "wss://bot.example.org"))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

log = logging.getLogger(__name__)
HEADER = "X-Twilio-Signature"


def signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    data = url + "".join(k + v for k, v in sorted((params or {}).items()))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def valid(auth_token: str, url: str, given: str | None, params: Mapping[str, str] | None = None) -> bool:
    """Constant-time check of a request's signature; no token or no signature is never valid."""
    if not auth_token or not given:
        return False
    return hmac.compare_digest(signature(auth_token, url, params).encode(), given.encode())


def signed_url(request: web.Request, public_url: str) -> str:
    """The URL Twilio signed: the configured public base + this request's path and query."""
    return public_url.rstrip("/") + request.path_qs if public_url else str(request.url)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signed(handler: Handler, auth_token: str, public_url: str = "") -> Handler:
    """`handler`, run only for requests Twilio signed; others get 403 before any upgrade."""

    async def check(request: web.Request) -> web.StreamResponse:
        if not valid(auth_token, signed_url(request, public_url), request.headers.get(HEADER)):
            log.warning("media stream refused: missing or bad %s", HEADER)
            raise web.HTTPForbidden(text="bad request signature")
        return await handler(request)

    return check
