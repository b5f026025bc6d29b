"""baresip as a real phone on loopback: veribot calls it (greeting recorded whole, DTMF
over ctrl_tcp answers the identity question), and it calls veribot back."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest
from sip_peers import REPO, Baresip, silent_wav

from audio.synthesis import speak
from bot.calls import CallRequest, NetworkOutcome
from bot.dialog.script import load_script
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.calls.worker_endpoint import inbound_handler
from bot.telephony.detection.answering_machine import rms
from bot.telephony.settings import TelephonySettings

pytestmark = [pytest.mark.sip, pytest.mark.slow]
SCRIPT = REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml"  # the real script, short greeting
AGENCY = {"agency": "City Police", "callback_number": "96110", "caller_id": "96110"}


def voiced_seconds(pcm: bytes, level: float = 300.0) -> float:
    return sum(rms(pcm[i : i + 320]) >= level for i in range(0, len(pcm) - 319, 320)) * 0.02


def read_wav(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        return w.readframes(w.getnframes())


async def test_veribot_calls_baresip_greeting_recorded_whole_and_dtmf_answers(make_endpoint, tmp_path: Path) -> None:
    phone = Baresip("callee", tmp_path, silent_wav(tmp_path / "mic.wav", 60))
    await phone.start()
    try:
        script = load_script(SCRIPT)
        turns = []
        request = CallRequest("t-3", f"sip:callee@127.0.0.1:{phone.sip_port}", {"name": "Li Lei"}, script,
                              variables=AGENCY, on_turn=turns.append)
        greeting = await speak(script.steps["greeting"].say.format(**AGENCY), "en-US")
        identity = await speak("Am I speaking with Li Lei?", "en-US")
        bot = await make_endpoint()
        call = asyncio.ensure_future(SipCallRunner(bot).run(request))
        await phone.wait_event("CALL_ESTABLISHED")
        # both prompts fully played: their length plus 1.5 s for a loaded box (a starved worker's line
        # clock restarts, so the audio ends later than its length; the no-input timeout is 6 s)
        await asyncio.sleep((len(greeting) + len(identity)) / 16000 + 1.5)
        await phone.command("sndcode", "1")
        for _ in range(250):
            if any(t.speaker == "caller" for t in turns):
                break
            await asyncio.sleep(0.02)
        await phone.command("hangup")
        result = await asyncio.wait_for(call, 15)
    finally:
        await phone.stop()
    assert result.network is NetworkOutcome.ANSWERED
    assert result.record.slots["identity"] == "yes"
    assert [t.text for t in result.record.transcript if t.speaker == "caller"][0] == "dtmf:1"
    assert bot.busy == 0 and not bot.ports.in_use
    recorded = sorted(phone.records.glob("dump-*-dec.wav"))
    assert recorded, list(phone.records.iterdir())
    heard = read_wav(recorded[-1])
    first_voice = next(i for i in range(0, len(heard), 320) if rms(heard[i : i + 320]) >= 300) / 16000
    assert first_voice < 0.6  # the start of the greeting is not clipped
    # everything the bot said before the key press arrived: greeting and question, whole
    assert voiced_seconds(heard) >= 0.95 * (voiced_seconds(greeting) + voiced_seconds(identity))
    level = np.frombuffer(heard, dtype="<i2").astype(float)
    assert np.abs(level).max() > 3000


@pytest.mark.parametrize("known", [True, False], ids=["known-person", "unknown-number"])
async def test_baresip_calls_back_and_is_recognized_or_greeted(make_endpoint, tmp_path: Path, known: bool) -> None:
    results = []
    people = {"caller": {"name": "Li Lei"}} if known else {}
    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY, lookup=people.get,
                              on_result=lambda req, res: results.append(res),
                              verify=lambda call, number: known)  # a listed person proved their code; a new number has none
    finished = asyncio.Event()

    async def inbound(call):
        try:
            await handler(call)
        finally:
            results.append(call.unknown_caller)
            finished.set()

    bot = await make_endpoint(inbound)
    phone = Baresip("caller", tmp_path, silent_wav(tmp_path / "mic.wav", 60))
    await phone.start()
    try:
        await phone.command("dial", f"sip:96110@127.0.0.1:{bot.local_addr[1]}")
        await phone.wait_event("CALL_ESTABLISHED")
        if known:
            await asyncio.sleep(4.0)  # greeting, then the identity question with the person's name
            await phone.command("hangup")
        await asyncio.wait_for(finished.wait(), 30)
        await phone.wait_event("CALL_CLOSED")
    finally:
        await phone.stop()
    if known:
        record = results[0].record
        assert record.outcome == "hung_up"
        assert "Am I speaking with Li Lei?" in [t.text for t in record.transcript]
        assert results[1] is False
    else:
        assert results == [True]  # greeted with the self-identification, then the bot hung up
    heard = read_wav(sorted(phone.records.glob("dump-*-dec.wav"))[-1])
    assert voiced_seconds(heard) > 2.0
    await asyncio.sleep(0.1)
    assert bot.busy == 0 and not bot.ports.in_use
