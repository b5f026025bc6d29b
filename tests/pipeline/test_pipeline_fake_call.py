"""A whole call through the real pipeline (line transport -> listener -> dialog processor ->
prompt player -> line) with the fake recognizer and synthesizer: no model loaded, so the
call takes a fraction of a second. The dialog is the shipped ko-KR verification script:
greeting, seven questions answered by speech and by keys, a confirmation, goodbye."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.recognizer import Recognizer
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache, Synthesizer
from bot.calls import CallRequest
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process

ROOT = Path(__file__).parents[2]
RATE = 8000


@pytest.fixture
def fake_resources(tmp_path):
    configure_worker_process()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)
    synth = FakeSynthesizer(seconds=0.2)
    resources = SpeechResources(
        settings, {}, EnergyOnlySession(), {"ko-KR": PromptCache(None, synth)},
        ThreadPoolExecutor(max_workers=1), RecognitionPool(1),
    )
    yield resources, synth
    resources.close()


def say() -> bytes:
    """A caller's answer on the line: 0.3 s of tone between short silences."""
    return bytes(800) + tone(0.3) + bytes(800)


async def test_whole_call_with_fake_recognizer_and_synthesizer(fake_resources, tmp_path):
    resources, synth = fake_resources
    heard = ["네", "서울시 마포구", "네", "아니요", "이상 없어요"]  # the speech turns, in order
    fake = FakeRecognizer(heard)
    resources.recognizers["ko-KR"] = lambda: fake
    script = load_script(ROOT / "dialogs" / "verification.ko-KR.yaml")
    turns = [
        CallerTurn("speech", pcm=say()),  # identity: 네
        CallerTurn("speech", pcm=say()),  # residence: 서울시 마포구 (always confirmed)
        CallerTurn("speech", pcm=say()),  # confirmation: 네
        CallerTurn("dtmf", keys="1"),  # health code: green
        CallerTurn("speech", pcm=say()),  # isolation: 아니요
        CallerTurn("dtmf", keys="2"),  # tests in 7 days: 2
        CallerTurn("speech", pcm=say()),  # result: 이상 없어요
        CallerTurn("dtmf", keys="1"),  # notice understood
    ]
    transport = LineTransport(turns, chunk_samples=480)
    told = []
    request = CallRequest(1, "+821000000000", {"name": "김민수"}, script, on_turn=told.append,
                          variables={"agency": "방역본부", "callback_number": "120"})
    record = await asyncio.wait_for(run_call(transport, request, resources, audio_dir=tmp_path / "clips"), 30)

    assert record.outcome == "completed"
    assert record.slots == {"identity": "yes", "residence": record.slots["residence"], "health_code": "green",
                            "isolation": "no", "nat_count": 2, "nat_result": "negative", "notice_ack": "yes"}
    assert record.slots["residence"]["district"] == "마포구"
    steps = [(t.kind, t.step) for t in record.transcript if t.kind != "prompt"]
    assert steps[:3] == [("speech", "identity"), ("speech", "residence"), ("speech", "residence")]  # confirmed
    assert told == record.transcript
    # The recognizer heard each speech turn once, with that question's grammar, and was closed.
    for _ in range(200):  # the listener frees its recognizer on the pool thread as the call ends
        if fake.closed:
            break
        await asyncio.sleep(0.01)
    assert isinstance(fake, Recognizer) and fake.closed and fake.texts == []
    assert len(fake.turns) == len(heard) and all(len(t) >= 0.3 * RATE * 2 for t in fake.turns)
    assert "네" in fake.grammars[0] and "아니요" in fake.grammars[0]
    # Every prompt went through the synthesizer and onto the line, greeting to goodbye.
    assert isinstance(synth, Synthesizer)
    assert synth.spoken[0].startswith("안녕하세요. 방역본부 입니다")
    assert any(t.startswith("협조해 주셔서 감사합니다") for t in synth.spoken)
    track = np.frombuffer(bytes(transport.output().track), dtype="<i2")
    assert np.abs(track[-RATE // 5:]).max() > 1000  # the line ends with the goodbye's audio
    assert sorted(p.name for p in (tmp_path / "clips").iterdir())[0] == "01-identity.wav"


def test_a_locale_without_a_recognizer_names_the_fetch_command(fake_resources):
    from audio.models import ModelMissing

    resources, _ = fake_resources
    made = []
    resources.recognizers["zh-CN"] = lambda: made.append(FakeRecognizer([])) or made[-1]
    assert resources.recognizer("zh-CN") is made[0] and resources.recognizer("zh-CN") is made[1]  # one per call
    with pytest.raises(ModelMissing, match="veribot models fetch en-US"):
        resources.recognizer("en-US")
