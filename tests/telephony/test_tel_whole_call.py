"""Acceptance (issue 25 item 3): a campaign with recording on calls a resident over real SIP/RTP
(loopback, G.711 both ways): the bot speaks the ko-KR verification's prompts (espeak-ng), the
scripted resident (`veribot softphone`'s Resident) answers in speech, hears the next question and
hangs up. The call's
stereo recording lines up with the stored transcript: the bot's audio starts on the left channel
within 100 ms of each prompt's line time, and the resident's answers end on the right channel
within 100 ms of the line time of their turns; each side is silent on the other's channel."""

from __future__ import annotations

import asyncio
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import col, select

from audio.call_recording import FILE_NAME
from audio.fakes import EnergyOnlySession, FakeRecognizer
from audio.scheduler import RecognitionPool
from bot.campaigns.dialing.dialer import Dialer
from bot.dialog.script import load_script
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.telephony.calls.conversation import speech_conversation
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.calls.softphone import Resident, Softphone, parse_answers
from storage.db import Database
from storage.models import Attempt, Turn
from tests.campaigns.campaign_fakes import add_campaign

pytestmark = [pytest.mark.sip, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "dialogs" / "verification.ko-KR.yaml"
RATE = 8000
TOLERANCE = 0.1  # the acceptance: ±100 ms
FRAME = 160  # 20 ms


def voiced(x: np.ndarray, level: float = 300.0) -> np.ndarray:
    """Per 20 ms frame: is there sound (RMS at or above `level`)."""
    n = len(x) // FRAME
    return np.sqrt((x[: n * FRAME].astype(float).reshape(n, FRAME) ** 2).mean(axis=1)) >= level


def onset(v: np.ndarray, after: float) -> float:
    i = next(i for i in range(max(0, int(after * 50)), len(v)) if v[i])
    return i / 50


def first_sample(x: np.ndarray, after: float) -> float:
    """Where the bot's audio starts on the left channel: its first non-zero sample (the bot's side is
    the exact PCM sent; between prompts the line sends digital silence)."""
    a = max(0, int(after * RATE))
    return (a + int(np.argmax(x[a:] != 0))) / RATE


def offset(v: np.ndarray, before: float) -> float:
    i = next(i for i in range(min(len(v), int(before * 50)) - 1, -1, -1) if v[i])
    return (i + 1) / 50


async def until(cond, within: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.fixture
def resources(tmp_path):
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", tts_engine="espeak-ng", audio_dir=tmp_path / "calls",
                              watchdog_secs=20)
    res = SpeechResources(settings, {}, EnergyOnlySession(), {}, ThreadPoolExecutor(max_workers=2), RecognitionPool(1))
    res.recognizers["ko-KR"] = lambda: FakeRecognizer(["네"])
    yield res
    res.close()


async def test_stereo_recording_lines_up_with_the_transcript(tmp_path, make_endpoint, resources) -> None:
    db = Database(f"sqlite:///{tmp_path / 'veribot.db'}")
    db.upgrade()
    add_campaign(db, concurrency=1, window_start="00:00", window_end="00:00", people=[("+821000000001", 1)],
                 dialog_path=str(SCRIPT), dialog_name="verification", record_calls=True)
    await asyncio.to_thread(resources.prepare, load_script(SCRIPT), {"agency": "방역본부", "callback_number": "120"})
    phone_ep = await make_endpoint()
    phone = Softphone(phone_ep, Resident(parse_answers(["네"]), "ko-KR", prompt_gap=0.8))
    bot = await make_endpoint(trunk=f"sip:127.0.0.1:{phone_ep.local_addr[1]}")
    dialer = Dialer(db, SipCallRunner(bot, speech_conversation(resources)), poll_seconds=0.1, claim_ttl=3600,
                    variables={"agency": "방역본부", "callback_number": "120"})
    stop = asyncio.Event()
    task = asyncio.create_task(dialer.run(stop))

    def ended() -> list[Attempt]:
        return db.run(lambda s: s.exec(select(Attempt).where(Attempt.state == "ended")).all(), write=False)

    try:
        await until(lambda: phone.finished.is_set())
        await until(ended)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    [att] = ended()
    turns = db.run(lambda s: s.exec(select(Turn).where(Turn.attempt_id == att.id).order_by(col(Turn.seq))).all(),
                   write=False)
    db.dispose()
    assert phone.calls[0].answers == ["네", "<hangup>"]  # it answered, heard the next question, hung up
    with wave.open(str(Path(att.audio_dir) / FILE_NAME)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    bot_v, caller_v = voiced(x[:, 0]), voiced(x[:, 1])

    played = [(t.parse or {}).get("played") for t in turns if t.speaker == "bot"]
    played = [p for p in played if p]
    answers = [t for t in turns if t.speaker == "caller" and t.kind == "speech" and t.line_at is not None]
    assert len(played) >= 3 and len(answers) == 1, ([t.text for t in turns], played)
    prev_end, errors = -1.0, []
    for p in played:
        if p["from"] > prev_end + 0.3:  # a new burst of the bot's audio: it starts on the left where the transcript says
            errors.append(first_sample(x[:, 0], p["from"] - 0.5) - p["from"])
            assert abs(errors[-1]) <= TOLERANCE, (p, played)
        prev_end = p["to"]
    for t in answers:  # each answer ends on the right where the transcript says
        errors.append(offset(caller_v, t.line_at + 0.5) - t.line_at)
        assert abs(errors[-1]) <= TOLERANCE, (t.text, t.line_at)
        start = onset(caller_v, t.line_at - 3)
        assert not bot_v[int(start * 50):int(t.line_at * 50)].any()  # the bot was quiet: nothing of it on the right
    first = played[0]
    assert not caller_v[int(first["from"] * 50):int(first["to"] * 50)].any()  # nor of the greeting on the right
    print("whole-call recording vs transcript (s):", [round(e, 3) for e in errors])
