import sys

import pytest

from audio import tts, wav


def test_mandarin_goes_through_numbered_pinyin():
    v = tts.Voice.for_locale("zh-CN")
    assert v.name == "cmn-latn-pinyin"
    assert tts.speakable("您好", v) == "nin2 hao3"


def test_hanzi_are_dropped_for_other_voices():
    assert tts.speakable("안녕하세요. 兰州市公安局 입니다.", tts.Voice.for_locale("ko-KR")).split() == [
        "안녕하세요.", "입니다."
    ]


def test_prompt_is_synthesized_once_then_cached(tmp_path):
    worker = tts.SynthesisWorker(timeout=20)
    calls = []
    real = worker.synthesize
    worker.synthesize = lambda text, voice: calls.append(text) or real(text, voice)
    try:
        cache = tts.PromptCache(tmp_path, worker)
        v = tts.Voice.for_locale("ko-KR")
        pcm = cache.render("네, 알겠습니다.", v)
        assert len(pcm) > 0.3 * 8000 * 2 and len(pcm) % 2 == 0
        assert cache.render("네, 알겠습니다.", v) == pcm
        # a second cache over the same directory (another process) finds it on disk
        assert tts.PromptCache(tmp_path, worker).cached("네, 알겠습니다.", v) == pcm
        assert calls == ["네, 알겠습니다."]
        assert cache.key("a", v) != cache.key("a", tts.Voice("ko", 120))
    finally:
        worker.close()


def test_hung_worker_is_timed_out_and_replaced(tmp_path):
    hanging = [sys.executable, "-c", "import time; time.sleep(60)"]
    worker = tts.SynthesisWorker(timeout=0.5, command=hanging)
    with pytest.raises(tts.SynthesisError, match="timed out"):
        worker.synthesize("네", tts.Voice.for_locale("ko-KR"))
    assert worker.restarts == 1
    worker.command = [sys.executable, "-m", "audio.tts"]  # the replacement works
    try:
        data = worker.synthesize("네", tts.Voice.for_locale("ko-KR"))
        info, _ = wav.parse_wav(data)
        assert info.encoding == "pcm16"
    finally:
        worker.close()


def test_dead_worker_is_an_error_not_a_hang():
    worker = tts.SynthesisWorker(timeout=5, command=[sys.executable, "-c", "pass"])
    with pytest.raises(tts.SynthesisError):
        worker.synthesize("네", tts.Voice.for_locale("ko-KR"))
    worker.close()


def test_espeak_engine_is_deterministic_and_sized_right():
    engine = tts.EspeakSynthesis(timeout=10)
    v = tts.Voice.for_locale("ko-KR")
    a, b = engine.synthesize("녹색 입니다", v), engine.synthesize("녹색 입니다", v)
    assert a == b
    info, samples = wav.parse_wav(a)
    assert info.sample_rate == 22050 and int.from_bytes(a[40:44], "little") == len(samples)


def test_espeak_engine_timeout_and_missing_program(tmp_path):
    slow = tmp_path / "slow-espeak"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(tts.SynthesisError, match="timed out"):
        tts.EspeakSynthesis(timeout=0.3, program=str(slow)).synthesize("네", tts.Voice.for_locale("ko-KR"))
    with pytest.raises(tts.SynthesisError, match="cannot run"):
        tts.EspeakSynthesis(program=str(tmp_path / "absent")).synthesize("네", tts.Voice.for_locale("ko-KR"))
