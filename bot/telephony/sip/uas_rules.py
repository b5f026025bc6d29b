"""RFC 3261 section 8.2 checks a user agent server makes before it looks at a request
(aiosipua answers every unknown method 405 and ignores Require, the URI scheme and the
body type). Pure: `refusal(request, allowed)` says how to refuse, or None to go on.

    refused = refusal(request, allowed=("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"))
    if refused: send_error(request, refused.code, refused.reason, extra_headers=refused.headers)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiosipua import SipRequest

SUPPORTED = ("100rel", "timer")  # the option tags aiosipua's UAS implements
SCHEMES = ("sip", "sips", "tel")
KNOWN_METHODS = frozenset(
    "INVITE ACK BYE CANCEL OPTIONS REGISTER PRACK SUBSCRIBE NOTIFY PUBLISH INFO REFER MESSAGE UPDATE".split()
)


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


def _tokens(values: Iterable[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def refusal(request: SipRequest, allowed: Iterable[str]) -> Refusal | None:
    method = request.method.upper()
    if method in ("ACK", "CANCEL"):
        return None  # never answered with an error of their own (RFC 3261 8.2.2.3, 9.2)
    allow = ", ".join(allowed)
    if method not in KNOWN_METHODS:
        return Refusal(501, "Not Implemented", {"Allow": allow})  # 8.2.1: unknown method
    scheme = (request.uri or "").split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        return Refusal(416, "Unsupported URI Scheme")  # 8.2.2.1
    unsupported = [t for t in _tokens(request.headers.get("require")) if t.lower() not in SUPPORTED]
    if unsupported:
        return Refusal(420, "Bad Extension", {"Unsupported": ", ".join(unsupported)})  # 8.2.2.3
    body_type = (request.headers.get_first("content-type") or "").split(";")[0].strip().lower()
    if method == "INVITE" and request.body and body_type not in ("application/sdp", ""):
        return Refusal(415, "Unsupported Media Type", {"Accept": "application/sdp"})  # 8.2.3
    return None
