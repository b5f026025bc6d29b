"""WAV files in and out. Calls run at 8 kHz mono 16-bit PCM; `read_call_audio` brings any
supported WAV (8/16 kHz or other rates, 16-bit linear, µ-law or A-law) to that form.
Resampling happens here, once, on file import — never inside a live call."""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio import g711

CALL_RATE = 8000
MAX_WAV_BYTES = 64 * 1024 * 1024  # a caller turn or a prompt is seconds long, never this

_PCM, _ALAW, _ULAW, _EXTENSIBLE = 1, 6, 7, 0xFFFE


class AudioFormatError(ValueError):
    pass


@dataclass(frozen=True)
class WavInfo:
    encoding: str  # pcm16 | ulaw | alaw
    sample_rate: int
    channels: int


def parse_wav(data: bytes) -> tuple[WavInfo, bytes]:
    """Return the format and the raw sample bytes of a RIFF/WAVE file."""
    if len(data) > MAX_WAV_BYTES:
        raise AudioFormatError(f"WAV too large: {len(data)} bytes (limit {MAX_WAV_BYTES})")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError("not a RIFF/WAVE file")
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            if len(body) < 16:
                raise AudioFormatError(f"fmt chunk too short: {len(body)} bytes")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            samples = body  # a truncated data chunk keeps what is there
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise AudioFormatError("WAV lacks a fmt or data chunk")
    tag, channels, rate, bits = fmt
    if channels < 1 or not 4000 <= rate <= 192000:
        raise AudioFormatError(f"unsupported WAV: {channels} channels at {rate} Hz")
    if tag == _PCM and bits == 16:
        enc = "pcm16"
    elif tag == _ULAW and bits == 8:
        enc = "ulaw"
    elif tag == _ALAW and bits == 8:
        enc = "alaw"
    else:
        raise AudioFormatError(f"unsupported WAV encoding: format tag {tag}, {bits} bits")
    width = 2 if enc == "pcm16" else 1
    usable = len(samples) - len(samples) % (width * channels)
    return WavInfo(enc, rate, channels), samples[:usable]


def to_call_pcm(info: WavInfo, samples: bytes) -> bytes:
    """Decode, mix down to mono and resample to 8 kHz 16-bit PCM."""
    if info.encoding == "ulaw":
        samples = g711.ulaw_to_lin(samples)
    elif info.encoding == "alaw":
        samples = g711.alaw_to_lin(samples)
    x = np.frombuffer(samples, dtype="<i2")
    if info.channels > 1:
        x = x.reshape(-1, info.channels).mean(axis=1).astype(np.int16)
    return resample(x.tobytes(), info.sample_rate, CALL_RATE)


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    if rate_in == rate_out or not pcm:
        return pcm
    import soxr

    x = np.frombuffer(pcm, dtype="<i2")
    return soxr.resample(x, rate_in, rate_out, quality="HQ").astype("<i2").tobytes()


def read_call_audio(path: str | Path) -> bytes:
    p = Path(path)
    try:
        info, samples = parse_wav(p.read_bytes())
    except AudioFormatError as exc:
        raise AudioFormatError(f"{p}: {exc}") from exc
    return to_call_pcm(info, samples)


def wav_bytes(samples: bytes, sample_rate: int = CALL_RATE, encoding: str = "pcm16") -> bytes:
    """A WAV file holding `samples` (PCM16 bytes, or G.711 bytes when encoding is ulaw/alaw)."""
    if encoding == "pcm16":
        tag, bits, align = _PCM, 16, 2
    elif encoding in ("ulaw", "alaw"):
        tag, bits, align = (_ULAW if encoding == "ulaw" else _ALAW), 8, 1
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    fmt = struct.pack("<HHIIHH", tag, 1, sample_rate, sample_rate * align, align, bits)
    if tag != _PCM:
        fmt += b"\x00\x00"  # cbSize, required for non-PCM formats
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples + (b"\x00" if len(samples) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_wav(path: str | Path, samples: bytes, sample_rate: int = CALL_RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples)
