"""Answering-machine detection on a real call: a greeting that talks on is a machine (the
attempt's outcome, a short message left); a short "hello" and silence is a person."""

from __future__ import annotations

import asyncio

import numpy as np
from sip_peers import REPO

from bot.calls import CallRequest, NetworkOutcome
from bot.dialog.script import load_script
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.sip.call import SipCall

SCRIPT = REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml"


def tone(seconds: float) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def voiced(pcm: bytes) -> int:
    """Samples of `pcm` louder than the bot's silence (its speech)."""
    return int((np.abs(np.frombuffer(bytes(pcm), dtype="<i2")) > 2000).sum())


async def _call(make_endpoint, greeting: bytes, person: bool = False) -> tuple[object, bytearray]:
    heard = bytearray()

    talked = asyncio.Event()  # the bot spoke to the callee for 1 s (its speech, not its silence)

    def hear(pcm: bytes) -> None:
        heard.extend(pcm)
        if voiced(heard) >= 8000:
            talked.set()

    async def callee(call: SipCall) -> None:
        call.media.on_audio = hear
        call.media.play(greeting)
        if not person:  # a machine records on
            await asyncio.wait({asyncio.ensure_future(call.ended.wait())}, timeout=20)
            return
        # a person hangs up once the bot is talking to them: the conversation ran
        waits = {asyncio.ensure_future(call.ended.wait()), asyncio.ensure_future(talked.wait())}
        await asyncio.wait(waits, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        call.hangup()

    phone = await make_endpoint(callee)
    bot = await make_endpoint(amd_enabled=True, amd_greeting_seconds=2.0, amd_machine_message="Please call 96110.")
    request = CallRequest("amd", f"sip:x@127.0.0.1:{phone.local_addr[1]}", {"name": "Li Lei"}, load_script(SCRIPT),
                          variables={"agency": "City Police", "callback_number": "96110"})
    result = await SipCallRunner(bot).run(request)
    assert bot.busy == 0 and not bot.ports.in_use
    return result, heard


async def test_a_greeting_that_talks_on_is_a_machine(make_endpoint) -> None:
    result, heard = await _call(make_endpoint, tone(6.0))
    assert result.network is NetworkOutcome.MACHINE and result.record is None
    loud = np.abs(np.frombuffer(bytes(heard), dtype="<i2")).max()
    assert loud > 2000  # the short message was left before hanging up


async def test_a_short_hello_is_a_person(make_endpoint) -> None:
    result, _ = await _call(make_endpoint, b"\x00\x00" * 2400 + tone(0.6), person=True)
    assert result.network is NetworkOutcome.ANSWERED
    assert result.record.transcript[0].step == "greeting"  # the conversation ran
