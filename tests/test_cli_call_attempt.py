"""`veribot call` places its call through an Attempt (issue 21 item 1), as the dialer, the
inbound path and the console's test call do: the request is the attempt's (its person, script,
observer and storage guard), the clips go to the attempt's directory, and the attempt saw every
note of the call. Fake speech (this is about how the call is placed, not how it sounds)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.attempt.attempt import Attempt
from bot.cli import speech
from bot.dialog.events import SlotFilled, Turn
from bot.dialog.script import load_script
from bot.pipeline import run as pipeline_run
from bot.pipeline.ears import EarStatus
from bot.pipeline.offline import CallerTurn
from bot.pipeline.resources import SpeechResources, SpeechSettings

ROOT = Path(__file__).parents[1]


def test_veribot_call_places_its_call_through_an_attempt(tmp_path, monkeypatch):
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)

    def load(config, locales):
        res = SpeechResources(settings, {}, EnergyOnlySession(), {"en-US": PromptCache(None, FakeSynthesizer())},
                              ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
        res.recognizers["en-US"] = lambda: FakeRecognizer([])
        res.status["en-US"] = EarStatus("en-US", "vosk", "fake")
        return res

    placed = []
    real_run_call = pipeline_run.run_call

    async def run_call(transport, request, resources, **kw):
        placed.append((request, kw))
        return await real_run_call(transport, request, resources, **kw)

    monkeypatch.setattr(SpeechResources, "load", staticmethod(load))
    monkeypatch.setattr(pipeline_run, "run_call", run_call)
    script = load_script(ROOT / "dialogs" / "verification.en-US.yaml")
    out = tmp_path / "call-1"
    (out / "clips").mkdir(parents=True)
    config = SimpleNamespace(variables={"agency": "City Health", "callback_number": "12320"})
    turns = [CallerTurn("dtmf", keys="2")]  # identity: no (keypad) -> wrong number
    record, _ = asyncio.run(speech._call(config, script, {"name": "Li Lei"}, turns, out, 160))

    (request, kw), = placed
    attempt = request.guard
    assert isinstance(attempt, Attempt) and request.observers == (attempt.record,)
    assert (attempt.attempt_id, attempt.person, attempt.script) == ("call-1", {"name": "Li Lei"}, script)
    assert kw["audio_dir"] == out / "clips" and attempt.audio_dir == str(out / "clips")
    assert record["slots"]["identity"] == "no" and record["outcome"] in ("wrong_number", "completed")
    said = [n.text for n in attempt.notes if isinstance(n, Turn)]
    assert said == [t["text"] for t in record["transcript"]]  # the attempt saw the call as it happened
    assert any(isinstance(n, SlotFilled) and n.slot == "identity" for n in attempt.notes)
    json.dumps(record)
