"""A dialog action added as one module (tests/dialog/pause_action.py, issue 21) on a real phone:
veribot's keypad driver calls baresip over SIP/RTP with a script that pauses 2 s between the
greeting and the question; the phone's recording has those 2 s of silence, then the question,
and the key pressed after it answers."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from sip_peers import Baresip, silent_wav

from audio.synthesis import speak
from bot.calls import CallRequest, NetworkOutcome
from bot.dialog import actions
from bot.dialog.script import load_script_text
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.detection.answering_machine import rms
from tests.dialog import pause_action
from tests.dialog.test_action_table import SCRIPT

pytestmark = [pytest.mark.sip, pytest.mark.slow]


def silences(pcm: bytes, level: float = 300.0) -> list[float]:
    """Silent stretches (s) between the first and the last voiced 20 ms window."""
    voiced = [rms(pcm[i : i + 320]) >= level for i in range(0, len(pcm) - 319, 320)]
    first, last = voiced.index(True), len(voiced) - voiced[::-1].index(True)
    out, run = [], 0
    for v in voiced[first:last]:
        if v and run:
            out.append(run * 0.02)
        run = 0 if v else run + 1
    return out


async def test_a_pause_module_is_heard_as_silence_on_a_keypad_call(make_endpoint, tmp_path: Path) -> None:
    actions.register(pause_action.ACTION)
    phone = Baresip("callee", tmp_path, silent_wav(tmp_path / "mic.wav", 60))
    await phone.start()
    try:
        script = load_script_text(SCRIPT)
        turns = []
        request = CallRequest("p-1", f"sip:callee@127.0.0.1:{phone.sip_port}", {"name": "Li Lei"}, script,
                              on_turn=turns.append)
        hello = await speak("Hello, this is the health office.", "en-US")  # warmed: no synthesis gap
        question = await speak("Is this a good time?", "en-US")
        await speak("Goodbye.", "en-US")
        bot = await make_endpoint()
        call = asyncio.ensure_future(SipCallRunner(bot).run(request))  # no speech pipeline: the keypad driver
        await phone.wait_event("CALL_ESTABLISHED")
        await asyncio.sleep((len(hello) + len(question)) / 16000 + 2.0 + 0.5)  # both prompts and the pause
        await phone.command("sndcode", "1")
        result = await asyncio.wait_for(call, 20)
    finally:
        actions.unregister("pause")
        await phone.stop()
    assert result.network is NetworkOutcome.ANSWERED
    assert result.record.slots == {"ok": "yes"} and result.record.outcome == "completed"
    with wave.open(str(sorted(phone.records.glob("dump-*-dec.wav"))[-1])) as w:
        heard = w.readframes(w.getnframes())
    gaps = sorted(silences(heard), reverse=True)
    assert 1.9 <= gaps[0] <= 2.6, gaps  # the pause, through G.711, between greeting and question
    assert len(gaps) == 1 or gaps[1] < 1.5, gaps  # and no other silence like it
