"""A real SIP call whose far end answers with a carrier announcement (the natural Mandarin voice,
some after a SIT tone): the attempt gets the announcement's outcome and that outcome's retry time,
never a conversation with a recording. Whisper base hears the opening (audio/intelligibility.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sip_peers import REPO

from audio.intelligibility import Listener
from bot.attempt.attempt import outcome_of
from bot.calls import CallRequest, NetworkOutcome
from bot.campaigns.dialing.policy import RetryPolicy
from bot.dialog.script import load_script
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.sip.call import SipCall

SCRIPT = REPO / "dialogs" / "verification.zh-CN.yaml"
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def sit() -> bytes:
    parts = [(913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380)]
    t = [np.arange(int(8000 * d)) / 8000 for _, d in parts]
    tones = [np.sin(2 * np.pi * f * x) * 6000 for (f, _), x in zip(parts, t, strict=True)]
    return np.concatenate(tones).astype("<i2").tobytes()


async def _call(make_endpoint, opening: bytes, ear: Listener):
    async def carrier(call: SipCall) -> None:
        call.media.play(opening)
        await asyncio.wait({asyncio.ensure_future(call.ended.wait())}, timeout=30)

    far = await make_endpoint(carrier)
    bot = await make_endpoint(carrier_detect=True)
    request = CallRequest("carrier", f"sip:x@127.0.0.1:{far.local_addr[1]}", {"name": "李雷"}, load_script(SCRIPT),
                          variables={"agency": "兰州市公安局", "callback_number": "96110"})
    result = await SipCallRunner(bot, transcribe=ear.transcribe).run(request)
    assert bot.busy == 0 and not bot.ports.in_use
    return result


CASES = [
    ("您拨打的用户已关机，请稍后再拨。", False, NetworkOutcome.POWERED_OFF, timedelta(hours=1)),
    ("您拨打的号码是空号，请查证后再拨。", True, NetworkOutcome.INVALID_NUMBER, timedelta(days=1)),
    ("您拨打的用户暂时无法接通，请稍后再拨。", False, NetworkOutcome.UNREACHABLE, timedelta(minutes=30)),
    ("您拨打的用户正在通话中，请稍后再拨。", False, NetworkOutcome.BUSY, timedelta(minutes=10)),
]


@pytest.mark.parametrize("text, with_sit, network, retry", CASES, ids=[c[2].value for c in CASES])
async def test_a_carrier_announcement_gets_its_outcome_and_retry_time(make_endpoint, voice, ear, text, with_sit,
                                                                     network, retry):
    speech = await asyncio.to_thread(voice.render, text)
    opening = (sit() if with_sit else b"") + b"\x00\x00" * 800 + speech + b"\x00\x00" * 8000
    result = await _call(make_endpoint, opening, ear)
    assert result.network is network and result.record is None  # no dialog with a recording
    outcome = outcome_of(result)
    assert outcome == network.value
    decision = RetryPolicy().decide(outcome, 1, NOW)
    assert decision.final_state is None and decision.retry_at == NOW + retry


async def test_a_sit_without_words_is_unreachable_and_a_person_still_talks(make_endpoint, voice, ear):
    result = await _call(make_endpoint, sit() + b"\x00\x00" * 8000 * 4, ear)
    assert result.network is NetworkOutcome.UNREACHABLE
    hello = await asyncio.to_thread(voice.render, "喂，你好，哪位啊？")
    result = await _call(make_endpoint, hello + b"\x00\x00" * 8000 * 3, ear)
    assert result.network is NetworkOutcome.ANSWERED
    assert result.record.transcript[0].step == "greeting"  # the conversation ran
