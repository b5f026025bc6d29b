"""What the bot played, when, on the line clock (evidence of the risk notice): a whole call
through the real pipeline with the fake recognizer and synthesizer; every prompt the line
carried is reported in order with line times, and the notice's exact audio is kept."""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from audio.wav import read_call_audio
from bot.calls import CallRequest
from bot.dialog.events import PromptPlayed
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process

ROOT = Path(__file__).parents[2]


@pytest.fixture
def fake_resources(tmp_path):
    configure_worker_process()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)
    synth = FakeSynthesizer(seconds=0.2)
    cache = PromptCache(None, synth)
    resources = SpeechResources(settings, {}, EnergyOnlySession(), {"ko-KR": cache},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    yield resources, cache
    resources.close()


def say() -> bytes:
    return bytes(800) + tone(0.3) + bytes(800)


async def test_every_played_prompt_has_line_times_and_the_notice_its_exact_audio(fake_resources, tmp_path):
    resources, cache = fake_resources
    fake = FakeRecognizer(["네", "서울시 마포구", "네", "아니요", "이상 없어요"])
    resources.recognizers["ko-KR"] = lambda: fake
    script = load_script(ROOT / "dialogs" / "verification.ko-KR.yaml")
    turns = [CallerTurn("speech", pcm=say()), CallerTurn("speech", pcm=say()), CallerTurn("speech", pcm=say()),
             CallerTurn("dtmf", keys="1"), CallerTurn("speech", pcm=say()), CallerTurn("dtmf", keys="2"),
             CallerTurn("speech", pcm=say()), CallerTurn("dtmf", keys="1")]
    notes: list = []
    request = CallRequest(1, "+821000000000", {"name": "김민수"}, script, observers=(notes.append,),
                          variables={"agency": "방역본부", "callback_number": "120", "call_code": "1 2 3 4 5 6"})
    record = await asyncio.wait_for(run_call(LineTransport(turns, chunk_samples=480), request, resources,
                                             audio_dir=tmp_path / "clips"), 30)
    assert record.outcome == "completed"

    played = [n for n in notes if isinstance(n, PromptPlayed)]
    said = [t.text for t in record.transcript if t.kind == "prompt"]
    assert [p.text for p in played] == said[:len(played)] and len(played) >= len(said) - 1  # the goodbye may be cut
    starts = [p.started_at for p in played]
    assert starts == sorted(starts) and all(p.ended_at > p.started_at for p in played)
    assert starts[0] < 1.0  # the greeting plays at once after answer, on the line clock
    # each prompt starts no earlier than the caller's answer before it ended (line time, not queue time)
    answers = [t for t in record.transcript if t.speaker == "caller" and t.at is not None]
    first_after = next(p for p in played if p.started_at > answers[0].at)
    assert first_after.started_at >= answers[0].at

    notice = [p for p in played if p.step == "notice"]  # the notice itself and its question
    assert len(notice) == 2 and notice[0].text.startswith("방역 수칙에 따라") and all(p.audio for p in notice)
    for p in notice:
        data = await asyncio.to_thread(_written, Path(p.audio))
        assert hashlib.sha256(data).hexdigest() == p.sha256
        assert await asyncio.to_thread(read_call_audio, p.audio) == cache.cached(p.text)  # exactly what was played
        assert p.complete
    assert all(p.audio is None for p in played if p.step != "notice")


def _written(path: Path) -> bytes:
    """The kept audio, once its writer thread is done."""
    for _ in range(100):
        if path.exists():
            return path.read_bytes()
        time.sleep(0.02)
    raise AssertionError(f"{path} not written")
