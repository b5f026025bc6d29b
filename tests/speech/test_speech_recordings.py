"""Recorded prompts, audio side: uploads decoded and bounded, takes replace TTS where the text
matches, joins without clicks; and the takes go with the dialog version."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from audio import wav
from audio.recordings import RecordedPromptCache, RecordedVoice, RecordingError, decode_upload, join, pieces
from audio.synthesis import PromptCache
from bot.campaigns.scripts import prompt_recordings as pr
from bot.dialog.script import load_script_text
from storage.db import Database


def tone(freq: float, seconds: float, rate: int = 8000, amp: float = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


class Fake:
    key = "fake"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.asked.append(text)
        return wav.wav_bytes(tone(300, 0.5, 16000), 16000)


def test_pieces_split_templates_at_variables() -> None:
    assert pieces("您好，{name}，这里是{agency}。") == ["您好，", "，这里是"]
    assert pieces("请问您现在的健康码是什么颜色？") == ["请问您现在的健康码是什么颜色？"]
    assert pieces("{name}") == []


def test_wav_and_mp3_uploads_decode_to_normalised_call_audio(tmp_path) -> None:
    loud = decode_upload(wav.wav_bytes(tone(440, 1.0, 44100, 30000), 44100))
    quiet = decode_upload(wav.wav_bytes(tone(440, 1.0, 16000, 500), 16000))
    for pcm in (loud, quiet):
        x = np.frombuffer(pcm, dtype="<i2").astype(float)
        assert 0.9 < len(x) / 8000 < 1.1
        assert 3500 < np.sqrt((x**2).mean()) < 4500  # both brought to the same level
    mp3 = tmp_path / "t.mp3"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(mp3), "synth", "1.5", "sine", "660"], check=True)
    pcm = decode_upload(mp3.read_bytes())
    assert 1.3 < len(pcm) / 16000 < 1.7


@pytest.mark.parametrize("data, why", [
    (b"hello world, not audio", "not a WAV or MP3"),
    (b"RIFF\x00\x00\x00\x00WAVEjunk", "unreadable WAV"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00garbage" * 10, "unreadable MP3"),
    (wav.wav_bytes(bytes(16000), 8000), "silent or too short"),
    (wav.wav_bytes(tone(440, 3.0), 8000), "longer than 2 seconds"),
    (b"RIFF" + bytes(9 * 1024 * 1024), "too large"),
])
def test_bad_uploads_give_a_clean_error(data: bytes, why: str) -> None:
    with pytest.raises(RecordingError, match=why):
        decode_upload(data, max_seconds=2.0)


def test_recorded_pieces_replace_tts_and_variables_are_spoken_between() -> None:
    chirp = tone(1000, 0.4)
    tts = Fake()
    voice = RecordedVoice(tts, {"您好，": chirp, "请问您现在的健康码是什么颜色？": chirp})
    assert voice.key.startswith("fake+rec:") and voice.key != RecordedVoice(tts, {"您好，": tone(900, 0.4)}).key
    info, pcm = wav.parse_wav(voice.synthesize("请问您现在的健康码是什么颜色？"))
    assert info.sample_rate == 8000 and tts.asked == []  # a whole recorded prompt: no TTS at all
    voice.synthesize("您好，李雷")
    assert tts.asked == ["李雷"]  # only the variable part
    voice.synthesize("没有录音的句子")
    assert tts.asked[-1] == "没有录音的句子"


def test_joins_do_not_click() -> None:
    a = np.full(800, 20000, dtype="<i2").tobytes()  # worst case: parts that start and end at full level
    out = np.frombuffer(join([a, a, a]), dtype="<i2").astype(int)
    assert out[0] == 0 and out[-1] == 0
    assert np.abs(np.diff(out)).max() < 20000 / 8  # no step anywhere: ramps of 8 ms


SCRIPT = Path(__file__).parents[1] / "telephony" / "fixtures" / "short.en-US.yaml"


def test_takes_belong_to_a_version_and_unchanged_texts_are_carried(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.upgrade()
    text = SCRIPT.read_text(encoding="utf-8")
    v1 = load_script_text(text, "verification")
    v2 = load_script_text(text.replace("Hello, this is {agency}.", "Good day, this is {agency}."), "verification")
    take = tone(1000, 0.5)
    db.run(lambda s: pr.save(s, v1, "Am I speaking with", take, "admin"))
    db.run(lambda s: pr.save(s, v1, "Hello, this is", take, "admin"))
    with pytest.raises(ValueError):
        db.run(lambda s: pr.save(s, v1, "not in the script", take, "admin"))
    assert db.run(lambda s: pr.carry(s, v2)) == 1  # the unchanged question; the changed goodbye is not
    got = db.run(lambda s: pr.recordings_for(s, "verification", "en-US", v2.version), write=False)
    assert got == {"Am I speaking with": take}
    states = {c.key: c.state for c in pr.coverage(v2, set(got))}
    assert states["greeting.say"] == "tts" and states["identity.prompt"] == "recorded"
    assert states["identity.no_input.0"] == "partly"  # "Hello, can you hear me? Am I speaking with {name}?"


def test_prompts_without_a_take_share_the_plain_voice_cache(tmp_path) -> None:
    tts = Fake()
    plain = PromptCache(tmp_path, tts)
    recorded = RecordedPromptCache(tmp_path, RecordedVoice(tts, {"您好，": tone(1000, 0.4)}))
    other = RecordedPromptCache(tmp_path, RecordedVoice(tts, {"您好，": tone(900, 0.4)}))
    assert recorded.key("谢谢，再见。") == plain.key("谢谢，再见。")  # rendered once for every set of takes
    assert recorded.key("您好，李雷") not in (plain.key("您好，李雷"), other.key("您好，李雷"))
