"""G.711 µ-law and A-law <-> 16-bit linear PCM (ITU-T G.711), vectorised with numpy.

Decoding uses 256-entry tables; encoding follows the reference segment algorithm.
All functions take and return `bytes` (PCM is little-endian int16)."""

from __future__ import annotations

import numpy as np

_BIAS = 0x84


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_ULAW_TO_LIN = _ulaw_decode_table()
_ALAW_TO_LIN = _alaw_decode_table()


def _segment(magnitude: np.ndarray, shift: int) -> np.ndarray:
    """Index of the highest set bit above `shift` (0..7), vectorised."""
    seg = np.zeros(magnitude.shape, dtype=np.int32)
    for s in range(1, 8):
        seg = np.where(magnitude >= (1 << (s + shift)), s, seg)
    return seg


def lin_to_ulaw(pcm: bytes) -> bytes:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2  # 14-bit, as in the reference g711.c
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.where(x < 0, -x, x), 8159) + 0x21
    seg = np.zeros(magnitude.shape, dtype=np.int32)
    for s, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        seg = np.where(magnitude > end, s + 1, seg)
    uval = np.where(magnitude > 0x1FFF, 0x7F, (seg << 4) | ((magnitude >> (seg + 1)) & 0x0F))
    return ((uval ^ mask) & 0xFF).astype(np.uint8).tobytes()


def ulaw_to_lin(data: bytes) -> bytes:
    return _ULAW_TO_LIN[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def lin_to_alaw(pcm: bytes) -> bytes:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 3  # 13-bit
    sign = np.where(x >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(x >= 0, x, -x - 1), 0x0FFF)
    exponent = _segment(magnitude, 4)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    return (((sign | (exponent << 4) | mantissa) ^ 0x55) & 0xFF).astype(np.uint8).tobytes()


def alaw_to_lin(data: bytes) -> bytes:
    return _ALAW_TO_LIN[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()
