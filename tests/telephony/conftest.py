"""Fixtures for the telephony tests: free loopback ports, endpoints, external SIP peers."""

from __future__ import annotations

import itertools
import os

import pytest

from bot.telephony.settings import TelephonySettings
from bot.telephony.sip.endpoint import SipEndpoint

_rtp_base = itertools.count(20000 + (os.getpid() % 400) * 20, 200)


def settings(**kw: object) -> TelephonySettings:
    base = next(_rtp_base) % 40000 + 20000
    kw.setdefault("listen", ("127.0.0.1", 0))
    kw.setdefault("rtp_ports", (base, base + 198))
    kw.setdefault("inbound_sources", ("127.0.0.0/8",))  # loopback peers may call the bots under test
    return TelephonySettings(**kw)  # type: ignore[arg-type]


@pytest.fixture
async def make_endpoint():
    made: list[SipEndpoint] = []

    async def make(on_inbound=None, **kw: object) -> SipEndpoint:
        ep = SipEndpoint(settings(**kw), on_inbound=on_inbound)
        await ep.start()
        made.append(ep)
        return ep

    yield make
    for ep in made:
        await ep.stop()
