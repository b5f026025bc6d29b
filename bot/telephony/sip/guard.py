"""The SIP edge's defences: message size cap, per-source rate limit with a self-expiring
ban on every request (in a dialog or not), malformed messages answered with 400 (when a
reply can be routed) or dropped. `parse_message(bytes)` is the one way bytes become a SIP
message: a SipRequest/SipResponse, or SipParseError (a ValueError) saying why not."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosipua import SipMessage, SipRequest, SipResponse, UdpSipTransport, parse_via, stringify_via

log = logging.getLogger(__name__)

_TOKEN = rb"[!%'*+\-.0-9A-Z_`a-z~]+"
_REQUEST_LINE = re.compile(rb"^" + _TOKEN + rb" [^ \r\n]+ SIP/2\.0\r\n")
_STATUS_LINE = re.compile(rb"^SIP/2\.0 [1-6][0-9][0-9] [^\r\n]*\r\n")
_HEADER = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.M)
_QUOTED_PAIR = re.compile(r"\\.", re.S)
_QUOTED_PAIR_B = re.compile(rb"\\[\x00-\x09\x0b\x0c\x0e-\x7f]")
_COMPACT = {b"v": b"via", b"f": b"from", b"t": b"to", b"i": b"call-id", b"l": b"content-length"}


@dataclass
class EdgeStats:
    oversize: int = 0
    malformed: int = 0
    rejected_400: int = 0
    rate_limited: int = 0
    responses_limited: int = 0  # responses over their own per-source rate limit
    foreign: int = 0  # responses and in-dialog requests not from the dialog's peer (in_dialog.py), dropped
    handler_errors: int = 0


class SipParseError(ValueError):
    """Bytes that are not an acceptable SIP message; `.request` is set when it parsed far
    enough to be answered with 400."""

    def __init__(self, why: str, request: SipRequest | None = None) -> None:
        super().__init__(why)
        self.request = request


def _never(_source: str) -> bool:
    return False


@dataclass
class RateLimit:
    """Token bucket per source address; a source that empties it is banned for a while."""

    per_second: float
    burst: int
    ban_seconds: float
    trusted: Callable[[str], bool] = _never
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _banned: dict[str, float] = field(default_factory=dict)

    def allow(self, source: str, now: float | None = None) -> bool:
        if self.trusted(source):
            return True
        now = time.monotonic() if now is None else now
        until = self._banned.get(source)
        if until is not None:
            if now < until:
                return False
            del self._banned[source]
        tokens, last = self._buckets.get(source, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
        if tokens < 1.0:
            self._banned[source] = now + self.ban_seconds
            self._buckets.pop(source, None)
            log.warning("SIP source rate-limited for %.0f s", self.ban_seconds)
            return False
        self._buckets[source] = (tokens - 1.0, now)
        if len(self._buckets) > 10000:  # forget the oldest sources
            for key in list(self._buckets)[:5000]:
                del self._buckets[key]
        return True


def check_request(msg: SipRequest, raw: bytes) -> str | None:
    """Semantic checks aiosipua does not make. Returns why the request is bad, or None."""
    cseq = msg.cseq
    if cseq is None:
        return "bad CSeq"
    if cseq.method.upper() != msg.method.upper() and msg.method.upper() not in ("ACK", "CANCEL"):
        return "CSeq method does not match the request"
    if not 0 <= cseq.seq < 2**31:
        return "CSeq number out of range"
    mf = msg.get_header("max-forwards")
    if mf is not None and (not mf.strip().isdigit() or int(mf.strip()) > 255):
        return "bad Max-Forwards"
    cl = msg.get_header("content-length")
    if cl is not None:
        if not cl.strip().isdigit():
            return "bad Content-Length"
        head, sep, body = raw.partition(b"\r\n\r\n")
        if sep and int(cl.strip()) > len(body):
            return "Content-Length larger than the body"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", msg.uri or ""):
        return "bad Request-URI"
    if msg.uri.lower().startswith(("sip:", "sips:")) and "?" in msg.uri.rsplit("@", 1)[-1]:
        return "headers in the Request-URI"  # RFC 3261 19.1.5, RFC 4475 escruri (a user part may hold "?")
    head = raw.partition(b"\r\n\r\n")[0]
    if b"\x00" in _QUOTED_PAIR_B.sub(b"", head):  # a quoted NUL is legal (RFC 4475 intmeth)
        return "NUL byte in the header"
    names = [_COMPACT.get(m.group(1).lower(), m.group(1).lower()) for m in _HEADER.finditer(head)]
    for h in (b"via", b"from", b"to", b"call-id", b"cseq"):
        if h not in names:
            return f"missing {h.decode()}"
    if names.count(b"content-length") > 1:
        return "more than one Content-Length"
    for name in ("to", "from", "contact"):
        for value in msg.headers.get(name):
            if len(_QUOTED_PAIR.sub("", value).split('"')) % 2 == 0:
                return f"unterminated quoted string in {name.title()}"  # RFC 4475 quotbal
    for via in msg.via:
        if not via.host:  # a missing branch is RFC 2543 (RFC 4475 inv2543, longreq): allowed
            return "bad Via"
    return None


def check_response(msg: SipResponse) -> str | None:
    """Why a response cannot belong to any transaction of ours, or None."""
    cseq = msg.cseq
    if cseq is None:
        return "bad CSeq"
    if not 0 <= cseq.seq < 2**31:
        return "CSeq number out of range"  # RFC 4475 scalarlg
    return None


# what aiosipua 0.7.1's parser raises on garbage (found by tests/telephony/test_tel_fuzz.py)
_PARSER_ERRORS = (ValueError,)  # UnicodeError included


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """One datagram -> a checked SIP message, or SipParseError naming the fault."""
    if data.startswith(b"SIP/"):
        if not _STATUS_LINE.match(data):
            raise SipParseError("bad status line")
    elif not _REQUEST_LINE.match(data):
        raise SipParseError("bad request line")
    try:
        msg = SipMessage.parse(data)
        if isinstance(msg, SipRequest):
            why = check_request(msg, data)
            if why is not None:
                raise SipParseError(why, msg)
        elif isinstance(msg, SipResponse):
            why = check_response(msg)
            if why is not None:
                raise SipParseError(why)
        else:
            raise SipParseError("neither a request nor a response")
    except SipParseError:
        raise
    except _PARSER_ERRORS as exc:
        raise SipParseError(f"unparsable message ({type(exc).__name__})") from exc
    return msg


def stamp_via_received(request: SipRequest, addr: tuple[str, int]) -> None:
    """RFC 3261 18.2.1 and RFC 3581: `received` when the top Via's host is not the source,
    `rport` filled in when asked for. (Own code: aiosipua's is private, `_stamp_via_received`.)"""
    vias = request.headers.get("via")
    if not vias:
        return
    via = parse_via(vias[0])
    rport = "rport" in via.params and not via.params["rport"]
    if via.host == addr[0] and not rport:
        return
    via.params["received"] = addr[0]
    if rport:
        via.params["rport"] = str(addr[1])
    request.headers.remove("Via")
    for value in [stringify_via(via), *vias[1:]]:
        request.headers.append("Via", value)


class _EdgeProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: GuardedUdpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.owner._dispatch(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP socket error: %s", exc)


class GuardedUdpTransport(UdpSipTransport):
    """aiosipua's UDP transport with the edge's defences in front of the parser
    (its own protocol class also avoids aiosipua's AssertionError log on 3.11, pitfall 5)."""

    max_bytes: int = 8192
    rate: RateLimit | None = None
    response_rate: RateLimit | None = None  # responses: the same limit, their own buckets
    stats: EdgeStats
    on_send: Callable[[SipRequest | SipResponse, tuple[str, int]], None] | None = None

    def configure(self, max_bytes: int, rate: RateLimit | None) -> None:
        self.max_bytes = max_bytes
        self.rate = rate
        # a flood of forged responses would otherwise be answered (ACK, BYE) without limit; their
        # own buckets so that a caller's request flood does not silence a callee's answers
        self.response_rate = None if rate is None else RateLimit(rate.per_second, rate.burst, rate.ban_seconds,
                                                                 rate.trusted)
        self.stats = EdgeStats()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _EdgeProtocol(self), local_addr=self.local_addr
        )

    def _dispatch(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > self.max_bytes:
            self.stats.oversize += 1
            return
        if not data.strip():
            return  # keep-alive CRLF
        if data.startswith(b"SIP/"):
            if self.response_rate is not None and not self.response_rate.allow(addr[0]):
                self.stats.responses_limited += 1
                return
        elif self.rate is not None and not self.rate.allow(addr[0]):
            self.stats.rate_limited += 1  # every request counts, in a dialog (To tag) or not
            return
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self.stats.malformed += 1
            if exc.request is not None:
                self._reply_400(exc.request, str(exc))
            return
        if isinstance(msg, SipRequest):
            stamp_via_received(msg, addr)
        if self.on_message is not None:
            try:
                self.on_message(msg, addr)
            except Exception:  # one bad message must not take the endpoint down
                self.stats.handler_errors += 1
                log.exception("SIP message handler failed")

    def send(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        """Every message leaves here: `on_send` sees it first; nothing is sent once closed."""
        if self.on_send is not None:
            self.on_send(message, addr)
        udp = self._udp_transport
        if udp is None or udp.is_closing():
            log.debug("SIP socket closed: %s not sent", type(message).__name__)
            return
        super().send(message, addr)

    def _reply_400(self, req: SipRequest, why: str) -> None:
        if req.method.upper() == "ACK" or not req.headers.get("via"):
            return
        resp = SipResponse(status_code=400, reason_phrase="Bad Request")
        for name in ("via", "from", "to", "call-id", "cseq"):
            for v in req.headers.get(name):
                resp.headers.append(name.title() if name != "call-id" else "Call-ID", v)
        resp.headers.set_single("Warning", f'399 veribot "{why}"')
        try:
            self.send_reply(resp)
            self.stats.rejected_400 += 1
        except (ValueError, OSError, RuntimeError):
            pass

