"""`veribot prompts render` (the contract in DESIGN.md) and the prompt cache under concurrency."""

import json
import subprocess
import sys
import threading
import wave
from pathlib import Path

from audio import g711
from audio.espeak import Espeak
from audio.synthesis import PromptCache
from bot.cli.prompts import line_audio

ROOT = Path(__file__).parents[2]


class Counting:
    """A Synthesizer that counts its calls and answers with a real espeak-ng WAV."""

    key = "counting:ko"

    def __init__(self):
        self.texts = []
        self.inner = Espeak("ko-KR")

    def synthesize(self, text):
        self.texts.append(text)
        return self.inner.synthesize(text)


def _veribot(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_prompt_for_the_person_as_the_line_sends_it(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[agency]\nname = "서울시 방역본부"\n[speech]\nprompt_cache = "{tmp_path / "cache"}"\n'
                      '[telephony]\ncodecs = ["PCMU"]\n')
    out = tmp_path / "out"
    proc = _veribot("prompts", "render", "--dialog", str(ROOT / "dialogs/verification.ko-KR.yaml"),
                    "--person", '{"name": "김민수"}', "--out", str(out), "--config", str(config), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert [e["file"] for e in index] == [f"{n:02d}.wav" for n in range(1, len(index) + 1)]
    assert index[0]["step"] == "greeting" and "서울시 방역본부" in index[0]["text"]
    assert any("김민수" in e["text"] for e in index)  # the person's name, in the same voice
    assert not any("{" in e["text"] for e in index)
    assert {e["step"] for e in index} >= {"greeting", "identity", "health_code"}
    for e in index:
        with wave.open(str(out / e["file"])) as w:
            assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1)
            pcm = w.readframes(w.getnframes())
        assert len(pcm) > 0.3 * 16000
        # every sample is a µ-law code point: it went through the call's codec
        assert g711.ulaw_to_lin(g711.lin_to_ulaw(pcm)) == pcm
        assert g711.alaw_to_lin(g711.lin_to_alaw(pcm)) != pcm


def test_bad_input_is_a_message_not_a_traceback(tmp_path):
    proc = _veribot("prompts", "render", "--dialog", str(ROOT / "dialogs/verification.ko-KR.yaml"),
                    "--person", "{not json", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2 and "--person is not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()
    proc = _veribot("prompts", "render", "--dialog", str(tmp_path / "absent.yaml"), "--person", "{}",
                    "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2 and "absent.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_line_audio_is_the_laws_round_trip():
    pcm = bytes(range(256)) * 8
    assert line_audio(pcm, "PCMA") == g711.alaw_to_lin(g711.lin_to_alaw(pcm))
    assert line_audio(pcm, "PCMU") == g711.ulaw_to_lin(g711.lin_to_ulaw(pcm))


def test_calls_asking_for_one_prompt_at_once_share_one_synthesis(tmp_path):
    synth = Counting()
    cache = PromptCache(tmp_path, synth)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.render("네, 맞아요."))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert synth.texts == ["네, 맞아요."] and len(set(results)) == 1 and len(results) == 8
