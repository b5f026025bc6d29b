"""Caller recordings in the formats phone apps and PC recorders write (sox makes each one from
the same signal): every one loads as the same 8 kHz call audio, and a format veribot cannot read
gives `veribot call` a one-line error naming the file, never a traceback. Fast: no models."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio import wav

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, np.ndarray]:
    d = tmp_path_factory.mktemp("formats")
    ref = d / "ref.wav"  # a chirp: any resampling or channel slip shows in the correlation
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(ref), "synth", "1", "sine", "300-3000",
                    "vol", "0.5"], check=True)
    return d, np.frombuffer(wav.read_call_audio(ref), dtype="<i2").astype(float)


@pytest.mark.parametrize("args, encoding", [
    (["-r", "48000", "-c", "2", "-b", "24"], "pcm24"),  # a PC recorder
    (["-r", "44100", "-c", "2", "-e", "floating-point", "-b", "32"], "float32"),  # an editor's export
    (["-r", "8000", "-c", "1", "-e", "u-law"], "ulaw"),  # a telephone recorder
    (["-r", "22050", "-c", "1", "-b", "8"], "pcm8"),
    (["-r", "16000", "-c", "1", "-b", "32"], "pcm32"),
    (["-r", "8000", "-c", "1", "-e", "floating-point", "-b", "64"], "float64"),
    (["-r", "11025", "-c", "2", "-e", "a-law"], "alaw"),
])
def test_recorder_formats_load_as_the_same_call_audio(reference, args, encoding) -> None:
    d, ref = reference
    f = d / f"{encoding}.wav"
    subprocess.run(["sox", str(d / "ref.wav"), *args, str(f)], check=True)
    info, _ = wav.parse_wav(f.read_bytes())
    assert info.encoding == encoding
    x = np.frombuffer(wav.read_call_audio(f), dtype="<i2").astype(float)
    assert abs(len(x) - len(ref)) <= 2
    n = min(len(x), len(ref))
    assert np.corrcoef(x[50 : n - 50], ref[50 : n - 50])[0, 1] > 0.99
    assert 0.97 < np.sqrt((x**2).mean()) / np.sqrt((ref**2).mean()) < 1.03  # same level, not halved by mixing


def test_float_samples_beyond_full_scale_clip_instead_of_wrapping(tmp_path) -> None:
    x = np.array([0.5, 1.5, -2.0, np.nan, 0.0] * 800, dtype="<f4")
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    data = x.tobytes()
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    f = tmp_path / "hot.wav"
    f.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    y = np.frombuffer(wav.read_call_audio(f), dtype="<i2")
    assert y[:5].tolist() == [16384, 32767, -32768, 0, 0]


def _wav_with_tag(tag: int, bits: int) -> bytes:
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 4000, 256, bits) + b"\x00\x00"
    data = bytes(4000)
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("content, why", [
    (_wav_with_tag(0x11, 4), "unsupported WAV encoding: format tag 17"),  # IMA ADPCM (old dictaphones)
    (_wav_with_tag(0x55, 0), "unsupported WAV encoding: format tag 85"),  # MP3 inside a WAV
    (b"ID3\x03" + bytes(200), "not a RIFF/WAVE file"),  # an MP3 named .wav
    (b"RF64" + bytes(200), "RF64/Wave64 is not read"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
     + b"data\x00\x00\x00\x00", "no audio"),
])
def test_unreadable_recording_gives_veribot_call_a_one_line_error(tmp_path, content, why) -> None:
    turns = tmp_path / "turns"
    turns.mkdir()
    (turns / "01.wav").write_bytes(wav.wav_bytes(bytes(3200)))
    (turns / "02.wav").write_bytes(content)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.zh-CN.yaml"),
         "--person", '{"name": "张伟"}', "--caller-audio", str(turns), "--json", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "02.wav" in lines[0] and why in lines[0], lines[0]


def _tone(seconds: float, amp: float) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    return amp * np.sin(2 * np.pi * 440 * t)


def test_a_quiet_short_answer_in_seconds_of_silence_is_raised_to_phone_level() -> None:
    x = np.concatenate([np.zeros(24000), _tone(0.4, 800), np.zeros(16000)])  # 0.4 s at -32 dBFS in 5 s
    y = np.frombuffer(wav.phone_level(x.astype("<i2").tobytes()), dtype="<i2").astype(float)
    speech = y[24000:27200]
    assert 2800 < np.sqrt((speech**2).mean()) < 3700  # -20 dBFS, measured on the answer, not the silence
    assert not y[:24000].any() and not y[27200:].any()  # silence stays silence


@pytest.mark.parametrize("amp", [5000.0, 40000.0])  # already at phone level; clipped
def test_loud_or_clipped_recordings_are_left_as_they_are(amp: float) -> None:
    pcm = np.clip(_tone(1.0, amp), -32768, 32767).astype("<i2").tobytes()
    assert wav.phone_level(pcm) == pcm


def test_hiss_alone_is_raised_no_more_than_30_db() -> None:
    hiss = np.random.default_rng(1).normal(0, 3, 8000)
    y = np.frombuffer(wav.phone_level(hiss.astype("<i2").tobytes()), dtype="<i2").astype(float)
    assert np.sqrt((y**2).mean()) < 3 * 31.7 * 1.1
