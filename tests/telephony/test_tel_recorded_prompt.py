"""Acceptance (issue 11): a human recording attached to a prompt replaces its TTS on a real SIP
call. The "recording" is a distinctive chirp (a pure 1 kHz tone) stored as the take of the
greeting's fixed text "Hello, this is" in the database; veribot's SIP runner dials a baresip
phone that records what it hears. The chirp is heard when the take exists, and the agency's
name (a variable) is still spoken by TTS after it; without the take, no chirp."""

from __future__ import annotations

import asyncio
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sip_peers import REPO, Baresip, silent_wav

from audio.fakes import EnergyOnlySession, FakeRecognizer
from audio.recordings import speak_recorded
from audio.scheduler import RecognitionPool
from bot.calls import CallRequest, NetworkOutcome
from bot.campaigns.scripts import prompt_recordings
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.script import load_script
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.telephony.calls.conversation import speech_conversation
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.detection.answering_machine import rms
from storage.db import Database

pytestmark = [pytest.mark.sip, pytest.mark.slow]
SCRIPT = REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml"
AGENCY = {"agency": "City Police", "callback_number": "96110", "caller_id": "96110"}
CHIRP_HZ = 1000


def chirp(seconds: float = 1.2) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    return (9000 * np.sin(2 * np.pi * CHIRP_HZ * t)).astype("<i2").tobytes()


def chirp_seconds(pcm: bytes) -> float:
    """How long a pure CHIRP_HZ tone is heard: 50 ms windows whose energy is almost all
    within 40 Hz of it (speech, even a vowel, spreads over many harmonics)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    n, total = 400, 0
    freqs = np.fft.rfftfreq(n, 1 / 8000)
    band = np.abs(freqs - CHIRP_HZ) <= 40
    for i in range(0, len(x) - n + 1, n):
        spec = np.abs(np.fft.rfft(x[i : i + n] * np.hanning(n))) ** 2
        if spec.sum() > 1e6 * n and spec[band].sum() / spec.sum() > 0.9:
            total += 1
    return total * n / 8000


def read_wav(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def prompt_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prompts")  # shared: the TTS parts are rendered once


@pytest.fixture
def resources(tmp_path, prompt_dir):
    settings = SpeechSettings(prompt_cache=prompt_dir, tts_engine="espeak-ng", audio_dir=tmp_path / "calls", watchdog_secs=20)
    res = SpeechResources(settings, {}, EnergyOnlySession(), {}, ThreadPoolExecutor(max_workers=2),
                          RecognitionPool(1))
    res.recognizers["en-US"] = lambda: FakeRecognizer([])  # the phone says nothing: prompts are what is tested
    yield res
    res.close()


@pytest.mark.parametrize("path, recorded", [("speech", True), ("speech", False), ("keypad", True)])
async def test_recorded_prompt_replaces_tts_on_a_sip_call(make_endpoint, resources, tmp_path: Path,
                                                           path: str, recorded: bool) -> None:
    script = load_script(SCRIPT)
    db = Database(f"sqlite:///{tmp_path / 'veribot.db'}")
    db.upgrade()
    if recorded:
        db.run(lambda s: prompt_recordings.save(s, script, "Hello, this is", chirp(), "admin"))
    takes = ScriptSource(db).recordings_for(script)  # what the dialer hands each call
    assert bool(takes) is recorded
    greeting_text = "Hello, this is City Police."
    if path == "speech":
        greeting = await asyncio.to_thread(resources.prompt_cache("en-US", takes).render, greeting_text)
        await asyncio.to_thread(resources.prepare, script, {**AGENCY, "name": "Li Lei"}, takes)  # as the runner does
    else:
        greeting = await speak_recorded(greeting_text, "en-US", takes)  # the keypad path's voice, warmed up

    phone = Baresip("callee", tmp_path, silent_wav(tmp_path / "mic.wav", 60))
    await phone.start()
    try:
        request = CallRequest("rec-1", f"sip:callee@127.0.0.1:{phone.sip_port}", {"name": "Li Lei"}, script,
                              variables=AGENCY, recordings=takes)
        bot = await make_endpoint()
        converse = speech_conversation(resources) if path == "speech" else None
        call = asyncio.ensure_future(SipCallRunner(bot, converse).run(request))
        await phone.wait_event("CALL_ESTABLISHED")
        await asyncio.sleep(len(greeting) / 16000 + 1.5)  # the greeting fully played
        await phone.command("hangup")
        result = await asyncio.wait_for(call, 20)
    finally:
        await phone.stop()
    assert result.network is NetworkOutcome.ANSWERED
    heard = read_wav(sorted(phone.records.glob("dump-*-dec.wav"))[-1])
    if recorded:
        assert 0.9 <= chirp_seconds(heard) <= 1.3  # the take, once, through G.711
        # and after it the agency's name, by TTS (the variable part of the greeting)
        x = np.frombuffer(heard, dtype="<i2")
        start = next(i for i in range(0, len(x), 160) if rms(x[i : i + 160].tobytes()) >= 300)
        after = x[start + int(8000 * 1.25) : start + int(8000 * 2.5)].tobytes()
        assert sum(rms(after[i : i + 320]) >= 300 for i in range(0, len(after) - 319, 320)) >= 10
    else:
        assert chirp_seconds(heard) < 0.2
        assert sum(rms(heard[i : i + 320]) >= 300 for i in range(0, len(heard) - 319, 320)) >= 25  # TTS spoke
