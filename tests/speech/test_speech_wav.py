import struct

import numpy as np
import pytest

from audio import g711, wav


def tone(rate: int, secs: float = 0.5, hz: float = 440.0) -> bytes:
    t = np.arange(int(rate * secs)) / rate
    return (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes()


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_linear_wav_comes_out_at_8k(rate):
    pcm = wav.to_call_pcm(*wav.parse_wav(wav.wav_bytes(tone(rate), rate)))
    assert len(pcm) == 2 * 4000  # 0.5 s at 8 kHz
    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * 8000 / len(x) - 440) < 5  # the tone survived resampling


@pytest.mark.parametrize("encoding", ["ulaw", "alaw"])
def test_g711_wav_is_decoded(encoding):
    lin = tone(8000)
    coded = g711.lin_to_ulaw(lin) if encoding == "ulaw" else g711.lin_to_alaw(lin)
    info, samples = wav.parse_wav(wav.wav_bytes(coded, 8000, encoding))
    assert info.encoding == encoding and info.sample_rate == 8000
    out = np.frombuffer(wav.to_call_pcm(info, samples), dtype="<i2").astype(int)
    assert np.max(np.abs(out - np.frombuffer(lin, dtype="<i2"))) < 300


def test_written_wav_reads_back(tmp_path):
    pcm = tone(8000)
    wav.write_wav(tmp_path / "a.wav", pcm)
    assert wav.read_call_audio(tmp_path / "a.wav") == pcm


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "not a RIFF/WAVE"),
        (b"RIFF\x00\x00\x00\x00WAVE", "lacks a fmt or data"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt \x04\x00\x00\x00abcd", "fmt chunk too short"),
    ],
)
def test_bad_files_give_clear_errors(data, message):
    with pytest.raises(wav.AudioFormatError, match=message):
        wav.parse_wav(data)


def test_unsupported_encoding_is_named():
    fmt = struct.pack("<HHIIHH", 0x11, 1, 8000, 4000, 256, 4)  # IMA ADPCM (IEEE float is read now)
    data = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data\x00\x00\x00\x00"
    with pytest.raises(wav.AudioFormatError, match="format tag 17, 4 bits"):
        wav.parse_wav(data)


def test_truncated_data_keeps_whole_samples():
    full = wav.wav_bytes(tone(8000), 8000)
    info, samples = wav.parse_wav(full[:-3])
    assert len(samples) % 2 == 0 and len(samples) == len(tone(8000)) - 4


def test_file_error_names_the_file(tmp_path):
    bad = tmp_path / "turn.wav"
    bad.write_bytes(b"nonsense")
    with pytest.raises(wav.AudioFormatError, match="turn.wav"):
        wav.read_call_audio(bad)
