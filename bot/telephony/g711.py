"""G.711 µ-law and A-law by lookup tables (numpy only): decoding is bit-exact ITU-T G.711,
encoding picks the nearest quantisation level."""

from __future__ import annotations

import numpy as np

PT_PCMU = 0
PT_PCMA = 8


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << np.maximum(seg - 1, 0)))
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _encode_table(decode: np.ndarray) -> np.ndarray:
    """For every int16 value, the code whose decoded value is nearest (ties: either)."""
    order = np.argsort(decode, kind="stable")
    values = decode[order].astype(np.int32)
    x = np.arange(-32768, 32768, dtype=np.int32)
    idx = np.clip(np.searchsorted(values, x), 1, len(values) - 1)
    lower, upper = values[idx - 1], values[idx]
    pick = np.where(x - lower <= upper - x, idx - 1, idx)
    return order[pick].astype(np.uint8)


ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()
ULAW_ENCODE = _encode_table(ULAW_DECODE)
ALAW_ENCODE = _encode_table(ALAW_DECODE)


def encode(pcm: bytes, payload_type: int) -> bytes:
    """16-bit little-endian PCM -> G.711 bytes for PT 0 (PCMU) or 8 (PCMA)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.int32) + 32768
    table = ULAW_ENCODE if payload_type == PT_PCMU else ALAW_ENCODE
    return table[samples].tobytes()


def decode(payload: bytes, payload_type: int) -> bytes:
    table = ULAW_DECODE if payload_type == PT_PCMU else ALAW_DECODE
    return table[np.frombuffer(payload, dtype=np.uint8)].astype("<i2").tobytes()


def silence(payload_type: int, samples: int = 160) -> bytes:
    return encode(b"\x00\x00" * samples, payload_type)
