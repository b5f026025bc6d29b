"""The evidence bundle's times against the recorded line (issue 22 item 6): a whole call through
the real pipeline on the in-memory line (fake recognizer and voice), stored by the call's Attempt,
exported as a bundle: the notice statement is complete with its times, each played prompt's
times are where its audio lies in the line's recording, and no prompt starts before the
caller's answer before it ended."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from campaign_fakes import Clock, add_campaign

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallRequest, CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.people.evidence import build_bundle, signing_key
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process

ROOT = Path(__file__).resolve().parents[2]
RATE = 8000


@pytest.fixture
def fake_resources(tmp_path):
    configure_worker_process()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)
    cache = PromptCache(None, FakeSynthesizer(seconds=0.2))
    resources = SpeechResources(settings, {}, EnergyOnlySession(), {"ko-KR": cache},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    yield resources, cache
    resources.close()


def say() -> bytes:
    return bytes(800) + tone(0.3) + bytes(800)


TICK = 0.1  # the line clock's step: the listener reports line time every ~100 ms of audio


def onset(track: bytes, after: float) -> float:
    """Where the bot's next audio begins in the recorded track, from `after` on."""
    t = max(0.0, after)
    samples = np.frombuffer(track, dtype="<i2")
    while not np.abs(samples[int(t * RATE):int(t * RATE) + 160]).max(initial=0) > 500:
        t += 0.02
        assert t * RATE * 2 < len(track), "no bot audio after that time"
    return t


def sounding(track: bytes, start: float, end: float) -> bool:
    """The recorded bot track carries audio in every 60 ms window of [start, end) (the in-memory
    line places the bot's 20 ms pieces as its clock reaches them: short gaps between them)."""
    samples = np.frombuffer(track, dtype="<i2")
    windows = range(int(start * RATE), max(int(end * RATE) - 479, int(start * RATE) + 1), 480)
    return all(len(samples[i:i + 480]) and np.abs(samples[i:i + 480]).max() > 500 for i in windows)


async def test_bundle_times_match_the_recorded_line(sqlite_db, fake_resources, tmp_path):
    db = sqlite_db
    resources, cache = fake_resources
    resources.recognizers["ko-KR"] = lambda: FakeRecognizer(["네", "서울시 마포구", "네", "아니요", "이상 없어요"])
    clock = Clock()
    cid = add_campaign(db, people=[("+821000000001", 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    rec = CallAttempt(db, claim, clock=clock)
    script = load_script(ROOT / "dialogs" / "verification.ko-KR.yaml")
    turns = [CallerTurn("speech", pcm=say()), CallerTurn("speech", pcm=say()), CallerTurn("speech", pcm=say()),
             CallerTurn("dtmf", keys="1"), CallerTurn("speech", pcm=say()), CallerTurn("dtmf", keys="2"),
             CallerTurn("speech", pcm=say()), CallerTurn("dtmf", keys="1")]
    line = LineTransport(turns, chunk_samples=480)
    request = CallRequest(claim.attempt_id, claim.phone, {"name": "김민수"}, script, observers=(rec.record,),
                          variables={"agency": "방역본부", "callback_number": "120", "call_code": "1 2 3 4 5 6"})
    record = await asyncio.wait_for(run_call(line, request, resources, audio_dir=tmp_path / "clips"), 30)
    await rec.settle(CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200), RetryPolicy())
    assert record.outcome == "completed"

    bundle = db.run(lambda s: build_bundle(s, claim.person_id, signing_key(tmp_path / "k.key"),
                                           audio_roots=[tmp_path]), write=False)
    turns_ = [e for e in bundle["entries"] if e["kind"] == "turn"]
    track = bytes(line.output().track)
    notice = [t for t in turns_ if t["speaker"] == "bot" and t["step"] == "notice"]
    assert notice and all(t["played"] and t["played"]["complete"] for t in notice)  # the whole notice was sent
    assert all(t["audio"] and t["audio"].get("data") for t in notice)

    last_answer_end = prev_end = 0.0
    for t in turns_:
        if t["speaker"] == "caller" and t["line_at"] is not None:
            last_answer_end = max(last_answer_end, t["line_at"])
        if t["speaker"] != "bot" or not t["played"]:
            continue
        played = t["played"]
        assert played["from"] >= last_answer_end - 0.01, (t["text"], played, last_answer_end)
        length = len(cache.cached(t["text"]) or cache.render(t["text"])) / 2 / RATE  # (personal: not kept)
        # the recording carries audio where the bundle says it played (to the line clock's tick)
        assert sounding(track, played["from"] + TICK, played["to"]), (t["text"], played)
        if played["from"] > prev_end + TICK:  # a new burst: the audio starts where the bundle says
            assert abs(onset(track, played["from"] - TICK) - played["from"]) <= TICK, (t["text"], played)
        if played["complete"]:  # the whole prompt: as long as its audio
            assert abs((played["to"] - played["from"]) - length) <= 0.01
        prev_end = played["to"]
        assert t["line_at"] == played["from"]
