"""RELIABILITY.md pipeline rows on the real engines: parallel calls share one Vosk Model with
a recognizer each, and a hung pyttsx3 worker is replaced while cached prompts still play."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from audio.espeak import Espeak
from audio.synthesis import PromptCache
from audio.tts_worker import SynthesisError

HANG = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.mark.asr
def test_parallel_calls_share_one_model_each_with_its_own_recognizer(speech, say_ko):
    model, _ = speech.model("ko-KR")
    recognizers = [speech.recognizer("ko-KR") for _ in range(4)]
    assert len({id(r) for r in recognizers}) == 4  # one recognizer per call
    assert all(r.model is model for r in recognizers)  # one Model in the process
    said = ["네", "아니요", "아니요", "네"]
    audio = {w: say_ko(w) for w in set(said)}

    def call(i: int) -> str:
        rec = recognizers[i]
        rec.expect(["네", "아니요"])
        pcm = audio[said[i]]
        for at in range(0, len(pcm), 320):  # 20 ms packets, interleaved with the other calls' threads
            rec.accept(pcm[at : at + 320])
        text = rec.finish().text
        rec.close()
        return text

    with ThreadPoolExecutor(max_workers=4) as pool:
        heard = list(pool.map(call, range(4)))
    assert heard == said  # no call heard another's audio


def test_a_hung_pyttsx3_worker_is_replaced_and_cached_prompts_still_play(tmp_path):
    engine = Espeak("ko-KR", backend="pyttsx3", timeout=20)
    assert engine.worker is not None
    real = list(engine.worker.command)
    cache = PromptCache(tmp_path, engine)
    try:
        greeting = cache.render("녹색 입니다")
        assert len(greeting) > 1000
        engine.worker.close()
        engine.worker.command = HANG  # the next worker hangs as pyttsx3's runAndWait() can
        engine.worker.timeout = engine.worker.start_timeout = 1.0
        started = time.monotonic()
        with pytest.raises(SynthesisError, match="timed out"):
            cache.render("새로운 문장 입니다")
        assert time.monotonic() - started < 5  # the call was not held for long
        assert engine.worker.restarts == 1 and engine.worker.pid is None  # the hung one was killed
        assert cache.render("녹색 입니다") == greeting  # the cached prompt plays meanwhile
        assert PromptCache(tmp_path, engine).render("녹색 입니다") == greeting  # from disk too
        engine.worker.command = real
        engine.worker.timeout = engine.worker.start_timeout = 20
        assert len(cache.render("새로운 문장 입니다")) > 1000  # the replacement speaks
    finally:
        engine.close()
