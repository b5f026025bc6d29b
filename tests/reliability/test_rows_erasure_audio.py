"""Erasure that erases (issue 24 item 3): the audio of a sentence naming a person ("请问您是X本人
吗", the greeting with the call's code, a confirmation of an address they gave) is spoken from
the call's own memory and never written to the prompt cache, so a purged person leaves no file
derived from their name or code; the cache's file names are a keyed HMAC (the key in var/), so
hashing a name finds nothing; files named by the old unkeyed hash are deleted at the first start.
The real pipeline (line transport, listener, dialog, player) with a synthesizer whose audio
carries its text, so a file made from a sentence can be recognised by its bytes."""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from audio import wav
from audio.fakes import EnergyOnlySession, FakeRecognizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.calls import CallRequest
from bot.campaigns.inbound.call_codes import code_variables
from bot.campaigns.people.retention import purge
from bot.cli.prompts import render_prompts
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process
from storage.models import Attempt, AttemptState, Campaign, CampaignStatus, Person, PersonState, utcnow

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "dialogs" / "verification.zh-CN.yaml"
NAME, CODE = "欧阳娜娜", "472109"
AGENCY = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110", "badge": "6201-0427"}


def _samples(text: str) -> np.ndarray:
    """The audio of `text`: its UTF-8 bytes as samples (x 97), after a short tone."""
    return np.frombuffer(text.encode(), dtype=np.uint8).astype(np.int16) * 97


class TextVoice:
    """A Synthesizer whose 8 kHz audio carries the text it said."""

    key = "text-voice"

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.spoken.append(text)
        return wav.wav_bytes(tone(0.05) + _samples(text).astype("<i2").tobytes(), 8000)


def _derived_from(var: Path, secret: str) -> list[Path]:
    """Files under var/ whose bytes hold `secret` as TextVoice says it."""
    needle = _samples(secret).astype("<i2").tobytes()
    return [p for p in var.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _resources(var: Path, voice: TextVoice) -> SpeechResources:
    configure_worker_process()
    settings = SpeechSettings(prompt_cache=var / "prompts", audio_dir=var / "calls", watchdog_secs=10)
    return SpeechResources(settings, {}, EnergyOnlySession(), {"zh-CN": PromptCache(var / "prompts", voice)},
                           ThreadPoolExecutor(max_workers=1), RecognitionPool(1))


def _listed(db, clips: Path) -> int:
    """The person and the attempt whose call is made (its clips under var/calls); their id."""
    def write(s):
        c = Campaign(name="c1", status=CampaignStatus.RUNNING)
        s.add(c)
        s.flush()
        p = Person(campaign_id=c.id, name=NAME, phone="+8613800000001", state=PersonState.COMPLETED)
        s.add(p)
        s.flush()
        s.add(Attempt(person_id=p.id, campaign_id=c.id, phone=p.phone, state=AttemptState.ENDED,
                      call_code=CODE, audio_dir=str(clips)))
        return p.id

    return db.run(write)


async def test_a_call_leaves_no_audio_naming_its_person_or_code(tmp_path, sqlite_db) -> None:
    var = tmp_path / "var"
    person = _listed(sqlite_db, var / "calls" / "1")
    voice = TextVoice()
    resources = _resources(var, voice)
    try:
        fake = FakeRecognizer(["是的", "甘肃省兰州市城关区东岗西路欧阳娜娜家"])
        resources.recognizers["zh-CN"] = lambda: fake
        script = load_script(SCRIPT)
        turns = [CallerTurn("speech", pcm=bytes(800) + tone(0.3) + bytes(800)) for _ in range(2)]
        request = CallRequest(1, "+8613800000001", {"name": NAME}, script,
                              variables={**AGENCY, **code_variables(CODE)})
        record = await asyncio.wait_for(run_call(LineTransport(turns, chunk_samples=480), request, resources), 30)
    finally:
        resources.close()
    assert list((var / "calls" / "1").iterdir())  # the call's own clips: erased with the person ...
    purge(sqlite_db, utcnow(), [var], person_ids=[person], why="request")
    assert not (var / "calls" / "1").exists()
    said = [t.text for t in record.transcript if t.kind == "prompt"]
    assert any(NAME in t for t in said) and any("4 7 2 1 0 9" in t for t in said)  # they were spoken
    assert any(NAME in t for t in voice.spoken) and any("4 7 2 1 0 9" in t for t in voice.spoken)
    cached = list((var / "prompts").glob("*.pcm"))
    assert len(cached) >= 3  # the sentences every resident hears are cached
    assert _derived_from(var, NAME) == [] and _derived_from(var, "4 7 2 1 0 9") == []  # ... and nothing else
    # names reveal nothing without the key: the text's plain hash finds no file
    for text in voice.spoken:
        for raw in (f"{text}\x1ftext-voice\x1f8000", text):
            assert not (var / "prompts" / f"{hashlib.sha256(raw.encode()).hexdigest()[:32]}.pcm").exists()
    key = var / "prompt-cache.key"
    assert key.exists() and key.stat().st_mode & 0o077 == 0 and not list((var / "prompts").glob("*key*"))


def test_prompts_render_for_a_person_keeps_their_sentences_out_of_the_cache(tmp_path) -> None:
    var = tmp_path / "var"
    cache = PromptCache(var / "prompts", TextVoice())
    index = render_prompts(load_script(SCRIPT), {"name": NAME}, {**AGENCY, **code_variables(CODE)},
                           tmp_path / "out", cache, "PCMA")
    assert any(NAME in row["text"] for row in index)  # the operator asked for them: written to --out
    assert _derived_from(var, NAME) == [] and _derived_from(var, "4 7 2 1 0 9") == []
    assert list((var / "prompts").glob("*.pcm"))


def test_files_named_by_the_old_plain_hash_are_deleted_at_the_first_keyed_start(tmp_path) -> None:
    prompts = tmp_path / "var" / "prompts"
    prompts.mkdir(parents=True)
    old = prompts / f"{hashlib.sha256(f'请问您是{NAME}本人吗？'.encode()).hexdigest()[:32]}.pcm"
    old.write_bytes(_samples(NAME).tobytes())
    cache = PromptCache(prompts, TextVoice())
    assert not old.exists()
    pcm = cache.render("您好")
    assert PromptCache(prompts, TextVoice()).cached("您好") == pcm  # the key is kept: the cache still works


async def test_keypad_calls_keep_no_sentence_naming_the_person_in_memory(monkeypatch) -> None:
    from audio import synthesis
    from audio.recordings import speak_recorded

    cache = PromptCache(None, TextVoice())
    monkeypatch.setitem(synthesis._speakers, "zh-CN", cache)
    await speak_recorded(f"请问您是{NAME}本人吗？", "zh-CN", {}, store=False)
    assert cache._memory == {}
    await speak_recorded("您好", "zh-CN", {})
    assert len(cache._memory) == 1
