"""Who may call a worker and where its RTP may go (issue 12).

    policy = EdgePolicy.from_settings(settings)
    policy.may_call("203.0.113.7")            # trusted_sources, the trunk's address, inbound_sources
    policy.is_trusted("203.0.113.7")          # no rate limit, no per-source cap
    policy.media_allowed("198.51.100.9", "203.0.113.7")  # the signalling source or media_networks

Addresses are IPs or CIDR networks. A host name in an SDP `c=` line is refused (nothing
resolves names on the media path). Log lines show addresses with the last part masked.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.telephony.settings import TelephonySettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(values: tuple[str, ...] | list[str], key: str) -> tuple[Network, ...]:
    """'10.0.0.5', '10.1.0.0/16', '::1' -> networks; ValueError names the key and the value."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"[telephony] {key}: {value!r} is not an IP address or network") from exc
    return tuple(out)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def mask_ip(value: str) -> str:
    """'203.0.113.7' -> '203.0.113.*' (an address can identify a person; logs keep the network)."""
    ip = _ip(value)
    if ip is None:
        return "<name>"
    if ip.version == 4:
        return str(ip).rsplit(".", 1)[0] + ".*"
    return ipaddress.ip_network(f"{ip}/48", strict=False).compressed.split("/")[0] + "*"


def _within(value: str, nets: tuple[Network, ...]) -> bool:
    ip = _ip(value)
    return ip is not None and any(ip in n for n in nets)


@dataclass(frozen=True)
class EdgePolicy:
    trusted: tuple[Network, ...] = ()
    callers: tuple[Network, ...] = ()  # may start calls: trusted + the trunk's address + inbound_sources
    media: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, s: TelephonySettings) -> EdgePolicy:
        from bot.telephony.sip.messages import uri_target

        trusted = networks(s.trusted_sources, "trusted_sources")
        trunk = networks([uri_target(s.trunk)[0]], "trunk") if s.trunk and _ip(uri_target(s.trunk)[0]) else ()
        return cls(trusted + trunk, trusted + trunk + networks(s.inbound_sources, "inbound_sources"),
                   networks(s.media_networks, "media_networks"))

    def is_trusted(self, source: str) -> bool:
        return _within(source, self.trusted)

    def may_call(self, source: str) -> bool:
        return _within(source, self.callers)

    def media_allowed(self, media_host: str, signalling_source: str) -> bool:
        media, source = _ip(media_host), _ip(signalling_source)
        if media is None:
            return False
        return media == source or _within(media_host, self.media)


class SourceCalls:
    """Concurrent inbound calls per source address."""

    def __init__(self) -> None:
        self._by_call: dict[str, str] = {}
        self._count: Counter[str] = Counter()

    def count(self, source: str) -> int:
        return self._count[source]

    def __len__(self) -> int:
        """Inbound calls in all (being set up or live)."""
        return len(self._by_call)

    def add(self, call_id: str, source: str) -> None:
        if call_id not in self._by_call:
            self._by_call[call_id] = source
            self._count[source] += 1

    def discard(self, call_id: str) -> None:
        source = self._by_call.pop(call_id, None)
        if source is not None:
            self._count[source] -= 1
            if self._count[source] <= 0:
                del self._count[source]
