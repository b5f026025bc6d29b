"""The `[telephony]` section of config.toml as a frozen, checked dataclass."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config


class Secret:
    """A password that never shows in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def mask_phone(number: str) -> str:
    """'+8613812345678' -> '+86138****5678'; SIP URIs keep their host, user masked."""
    m = re.match(r"^(sips?:)?([^@;]*)(.*)$", number or "")
    if not m:
        return "***"
    scheme, user, rest = m.group(1) or "", m.group(2), m.group(3)
    digits = re.sub(r"\D", "", user)
    if len(digits) <= 4:
        masked = "*" * len(user)
    else:
        masked = user[: max(0, len(user) - 8)] + "****" + user[-4:] if len(user) > 8 else "****" + user[-4:]
    return f"{scheme}{masked}{rest}"


_DIGITS = re.compile(r"(?<![\w.])(\+?\d[\d-]{5,}\d)(\d{4})(?!\d)")


def mask_digits(text: str) -> str:
    """Mask every phone-like digit run in free text (log lines of libraries)."""
    return _DIGITS.sub(lambda m: "*" * min(len(m.group(1)), 6) + m.group(2), text)


class PhoneMaskFilter(logging.Filter):
    """Attached to loggers we do not own (aiosipua logs whole URIs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_digits(record.getMessage())
        record.args = None
        return True


def _host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    try:
        return host, int(port)
    except ValueError as exc:
        raise ValueError(f"[telephony] bad address {value!r}: port must be a number") from exc


@dataclass(frozen=True)
class TelephonySettings:
    listen: tuple[str, int] = ("127.0.0.1", 5080)
    public_address: str = ""  # advertised in SDP/Contact (NAT); default: the listen host
    trunk: str = ""  # sip:host[:port] of the PBX / carrier trunk; empty = dial URIs directly
    caller_id: str = "96110"
    auth_user: str = ""
    auth_password: Secret = field(default_factory=lambda: Secret(""))
    register: bool = False
    rtp_ports: tuple[int, int] = (30000, 31000)
    codecs: tuple[str, ...] = ("PCMA", "PCMU")
    capacity: int = 50
    ring_timeout: float = 40.0
    max_call_seconds: float = 600.0
    media_inactivity: float = 15.0
    retry_after: int = 30
    max_message_bytes: int = 8192
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 60
    rate_limit_ban_seconds: float = 60.0
    trusted_sources: tuple[str, ...] = ()  # addresses or networks (the trunk, Kamailio): no rate limit, may call in
    inbound_sources: tuple[str, ...] = ()  # further addresses/networks that may call in (rate-limited, capped)
    media_networks: tuple[str, ...] = ()  # where the trunk's media may be, besides the signalling source
    max_calls_per_source: int = 10  # concurrent inbound calls of one untrusted source (always below capacity)
    operator_uri: str = ""  # sip:operator@pbx — blind transfer target on escalation
    amd_enabled: bool = False
    amd_greeting_seconds: float = 3.5  # continuous speech longer than this = machine
    amd_machine_message: str = ""
    inbound_dialog: str = "dialogs/verification.zh-CN.yaml"
    unknown_caller_message: str = ""  # {agency} {callback_number}; empty: built-in per language

    def __post_init__(self) -> None:
        lo, hi = self.rtp_ports
        if not (1024 <= lo < hi <= 65535):
            raise ValueError(f"[telephony] rtp_ports must be two ports 1024..65535 (low < high), got {lo}-{hi}")
        if self.capacity < 1:
            raise ValueError("[telephony] capacity must be at least 1")
        bad = [c for c in self.codecs if c not in ("PCMA", "PCMU")]
        if bad or not self.codecs:
            raise ValueError(f"[telephony] codecs must be PCMA and/or PCMU, got {list(self.codecs)}")
        if self.max_calls_per_source < 1:
            raise ValueError("[telephony] max_calls_per_source must be at least 1")
        from bot.telephony.edge_policy import networks  # checks every address list, naming the key

        for name in ("trusted_sources", "inbound_sources", "media_networks"):
            networks(getattr(self, name), name)
        for name in ("ring_timeout", "max_call_seconds", "media_inactivity"):
            if getattr(self, name) <= 0:
                raise ValueError(f"[telephony] {name} must be positive")

    @property
    def per_source_limit(self) -> int:
        """Concurrent inbound calls one untrusted source may hold: below capacity."""
        return max(1, min(self.max_calls_per_source, self.capacity - 1))

    @property
    def media_host(self) -> str:
        return self.public_address or self.listen[0]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TelephonySettings:
        kw: dict[str, Any] = {}
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"[telephony] unknown keys: {', '.join(sorted(unknown))}")
        for k, v in d.items():
            if k == "listen":
                v = _host_port(str(v), 5080)
            elif k == "rtp_ports":
                lo, _, hi = str(v).partition("-")
                v = (int(lo), int(hi or lo))
            elif k == "auth_password":
                v = Secret(str(v))
            elif k in ("codecs", "trusted_sources", "inbound_sources", "media_networks"):
                v = tuple(str(x) for x in v)
            kw[k] = v
        return cls(**kw)

    @classmethod
    def from_config(cls, config: Config) -> TelephonySettings:
        """[telephony]; the caller ID defaults to [agency] caller_id."""
        section = dict(config.section("telephony"))
        if "caller_id" not in section and config.agency.get("caller_id"):
            section["caller_id"] = config.agency["caller_id"]
        return cls.from_dict(section)
