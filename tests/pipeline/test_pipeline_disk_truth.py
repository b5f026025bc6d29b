"""The speech pipeline (the production driver) when the worker's storage fails during the call:
the greeting and question playing are finished, the caller's answer is followed by the truth
(bot.telephony.calls.storage_fault) instead of the next question, and the call ends escalated."""

from __future__ import annotations

import asyncio

import numpy as np

from audio.fakes import FakeRecognizer
from bot.calls import CallRequest
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.run import run_call
from bot.telephony.calls import storage_fault
from tests.pipeline import test_pipeline_fake_call as whole_call

fake_resources = whole_call.fake_resources  # the fixture: fake recognizer and synthesizer, no model
RATE = 8000


class Failing:
    def __init__(self) -> None:
        self.kept: list = []

    def storage_failing(self) -> bool:
        return True

    async def keep_callback(self, reason, step, detail) -> bool:
        self.kept.append((reason, step))
        return True


async def test_the_pipeline_finishes_the_prompt_then_tells_the_truth_and_ends(fake_resources, tmp_path):
    resources, synth = fake_resources
    resources.recognizers["ko-KR"] = lambda: FakeRecognizer(["네", "서울시 마포구"])
    script = load_script(whole_call.ROOT / "dialogs" / "verification.ko-KR.yaml")
    transport = LineTransport([CallerTurn("speech", pcm=whole_call.say()), CallerTurn("speech", pcm=whole_call.say())],
                              chunk_samples=480)
    told: list = []
    request = storage_fault.held(CallRequest(1, "+821000000000", {"name": "김민수"}, script, observers=(told.append,),
                                             variables={"agency": "방역본부", "callback_number": "120"}))
    guard = Failing()
    watcher = asyncio.create_task(storage_fault.watch_storage(guard, request, poll=0.01))
    record = await asyncio.wait_for(run_call(transport, request, resources, audio_dir=tmp_path / "clips"), 30)
    assert watcher.done() and watcher.result() is True

    truth = storage_fault.words("ko-KR", durable=True)
    assert record.outcome == "escalated" and record.escalation.reason == "storage_fault"
    assert guard.kept == [("storage_fault", "identity")]
    prompts = [t.text for t in record.transcript if t.kind == "prompt"]
    assert prompts[0].startswith("안녕하세요. 방역본부 입니다") and prompts[1].startswith("김민수 님 본인이 맞으십니까")
    assert prompts[2:] == [truth]  # the greeting and question were played, then the truth, nothing after it
    assert truth in synth.spoken  # rendered for the line (the rest of the script is warmed in the background)
    assert [(t.speaker, t.kind) for t in record.transcript[-2:]] == [("caller", "speech"), ("bot", "prompt")]
    assert record.transcript[-1].text == truth and record.slots.get("identity") is None
    track = np.frombuffer(bytes(transport.output().track), dtype="<i2")
    assert np.abs(track[-RATE // 5:]).max() > 1000  # the line ends with the truth's audio, then the hang-up
