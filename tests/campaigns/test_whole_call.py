"""The whole call on record (issue 25 item 3) through a campaign, on the in-memory line: a
campaign with `record_calls` on keeps one stereo WAV in the attempt's clip folder whose left
channel is exactly what the line carried from the bot and right what the caller said, on the
line clock; the evidence bundle lists it with its SHA-256; `veribot purge` removes it. With the
option off (the default) no such file is written."""

from __future__ import annotations

import asyncio
import hashlib
import wave
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from campaign_fakes import Clock, add_campaign

from audio.call_recording import FILE_NAME
from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.people.evidence import build_bundle, signing_key, verify_bundle
from bot.cli import main
from bot.config import load_config
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+8613800138000"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    configure_worker_process()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    db = Database.from_config(load_config(cfg))
    db.upgrade()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "var" / "calls", watchdog_secs=10)
    resources = SpeechResources(settings, {}, EnergyOnlySession(), {"ko-KR": PromptCache(None, FakeSynthesizer(0.2))},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    yield db, resources, tmp_path
    resources.close()
    db.dispose()


def say() -> bytes:
    return bytes(800) + tone(0.3) + bytes(800)


@pytest.mark.parametrize("record", [True, False])
async def test_campaign_keeps_the_whole_call_and_purge_removes_it(setup, record, capsys):
    db, resources, tmp_path = setup
    resources.recognizers["ko-KR"] = lambda: FakeRecognizer(["네", "서울시 마포구"])
    clock = Clock()
    cid = add_campaign(db, people=[(PHONE, 1)], record_calls=record)
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    rec = CallAttempt(db, claim, load_script(ROOT / "dialogs" / "verification.ko-KR.yaml"), clock=clock)
    request = rec.request({"agency": "방역본부", "callback_number": "120", "call_code": "1 2 3 4 5 6"})
    assert request.record_call is record  # the campaign's option reaches the call
    line = LineTransport([CallerTurn("speech", pcm=say()), CallerTurn("speech", pcm=say()),
                          CallerTurn("hangup")], chunk_samples=480)
    clips = resources.settings.audio_dir / str(claim.attempt_id)
    record_ = await asyncio.wait_for(run_call(line, request, resources, audio_dir=clips), 30)
    await rec.settle(CallResult(NetworkOutcome.ANSWERED, record=record_, sip_status=200, audio_dir=str(clips)),
                     RetryPolicy())
    path = clips / FILE_NAME
    key = signing_key(tmp_path / "k.key")
    bundle = db.run(lambda s: build_bundle(s, claim.person_id, key, audio_roots=[tmp_path]), write=False)
    verify_bundle(bundle)
    listed = [e for e in bundle["entries"] if e["kind"] == "recording"]
    if not record:
        assert not path.exists() and not listed and any(clips.iterdir())  # the clips are kept, not the call
        return
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    bot, caller = bytes(line.output().track), bytes(line.input().track)
    n = len(caller) // 2
    assert len(x) >= n and x[:n, 1].tobytes() == caller  # right: the caller, sample for sample
    left = x[:, 0].tobytes()
    assert left[:len(bot)] == bot[:len(left)] and len(bot) > 16000  # left: the bot where the line played it
    assert listed == [{**listed[0], "attempt_id": claim.attempt_id, "channels": ["bot", "resident"]}]
    assert listed[0]["audio"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    assert main(["purge", "--phone", PHONE, "--yes"]) == 0
    assert not path.exists() and not clips.exists()
    capsys.readouterr()
