"""G.711 µ-law and A-law <-> 16-bit linear PCM (ITU-T G.711): the one codec of veribot.

Bit-exact with the ITU-T reference algorithm (and Python's `audioop`, tested on every
16-bit input and every code). Both directions are table lookups: the 256-entry decode
tables and the 65,536-entry encode tables are built once at import (numpy) from the
reference segment algorithm; a 20 ms packet costs a few µs each way. All functions take
and return `bytes` (PCM is little-endian int16); an odd trailing byte of PCM is ignored.
Hand-written rather than `audioop`: that module is deprecated and gone in Python 3.13."""

from __future__ import annotations

import numpy as np

PT_PCMU = 0  # RTP payload types (RFC 3551)
PT_PCMA = 8
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


def _ulaw_encode_table() -> np.ndarray:
    """Code for every int16 value (index value + 32768), by the reference g711.c algorithm."""
    x = np.arange(-32768, 32768, dtype=np.int32) >> 2  # 14-bit
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.where(x < 0, -x, x), 8159) + 0x21
    seg = np.zeros(magnitude.shape, dtype=np.int32)
    for s, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        seg = np.where(magnitude > end, s + 1, seg)
    uval = np.where(magnitude > 0x1FFF, 0x7F, (seg << 4) | ((magnitude >> (seg + 1)) & 0x0F))
    return ((uval ^ mask) & 0xFF).astype(np.uint8)


def _alaw_encode_table() -> np.ndarray:
    x = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit
    sign = np.where(x >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(x >= 0, x, -x - 1), 0x0FFF)
    exponent = np.zeros(magnitude.shape, dtype=np.int32)
    for s in range(1, 8):
        exponent = np.where(magnitude >= (1 << (s + 4)), s, exponent)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    return (((sign | (exponent << 4) | mantissa) ^ 0x55) & 0xFF).astype(np.uint8)


ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()
ULAW_ENCODE = _ulaw_encode_table()
ALAW_ENCODE = _alaw_encode_table()
# Lookups at the lowest cost per 20 ms packet: encode indexes by the raw unsigned 16-bit
# sample (no arithmetic on the array); decode is two bytes.translate (low, high byte) and
# an interleave, with no numpy call at all.
_ENCODE = {pt: np.roll(t, -32768) for pt, t in ((PT_PCMU, ULAW_ENCODE), (PT_PCMA, ALAW_ENCODE))}
_DECODE = {pt: (t.astype("<i2").view(np.uint8)[0::2].tobytes(), t.astype("<i2").view(np.uint8)[1::2].tobytes())
           for pt, t in ((PT_PCMU, ULAW_DECODE), (PT_PCMA, ALAW_DECODE))}


def _encode(pcm: bytes, table: np.ndarray) -> bytes:
    return table.take(np.frombuffer(pcm, dtype="<u2", count=len(pcm) // 2)).tobytes()


def _decode(data: bytes, tables: tuple[bytes, bytes]) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = bytes(data).translate(tables[0])
    out[1::2] = bytes(data).translate(tables[1])
    return bytes(out)


def lin_to_ulaw(pcm: bytes) -> bytes:
    return _encode(pcm, _ENCODE[PT_PCMU])


def lin_to_alaw(pcm: bytes) -> bytes:
    return _encode(pcm, _ENCODE[PT_PCMA])


def ulaw_to_lin(data: bytes) -> bytes:
    return _decode(data, _DECODE[PT_PCMU])


def alaw_to_lin(data: bytes) -> bytes:
    return _decode(data, _DECODE[PT_PCMA])


def _check(payload_type: int) -> None:
    if payload_type not in _ENCODE:
        raise ValueError(f"payload type {payload_type} is not G.711 (PCMU {PT_PCMU} or PCMA {PT_PCMA})")


def encode(pcm: bytes, payload_type: int) -> bytes:
    """16-bit little-endian PCM -> G.711 bytes for RTP payload type 0 (PCMU) or 8 (PCMA)."""
    _check(payload_type)
    return _encode(pcm, _ENCODE[payload_type])


def decode(payload: bytes, payload_type: int) -> bytes:
    """G.711 bytes of payload type 0 (PCMU) or 8 (PCMA) -> 16-bit little-endian PCM."""
    _check(payload_type)
    return _decode(payload, _DECODE[payload_type])


def silence(payload_type: int, samples: int = 160) -> bytes:
    return encode(b"\x00\x00" * samples, payload_type)
