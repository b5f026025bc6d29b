import warnings

import numpy as np
import pytest

from audio import g711

with warnings.catch_warnings():  # the ITU-T G.711 reference; deprecated (gone in 3.13), fine as a reference
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

EVERY_SAMPLE = np.arange(-32768, 32768, dtype="<i2").tobytes()
EVERY_CODE = bytes(range(256))


def test_ulaw_reference_values():
    # ITU-T G.711 µ-law: 0xFF and 0x7F are the two zeros, 0x00 is the most negative code.
    assert g711.ulaw_to_lin(bytes([0xFF, 0x7F, 0x00, 0x80])) == (0).to_bytes(2, "little", signed=True) * 2 + (
        -32124
    ).to_bytes(2, "little", signed=True) + (32124).to_bytes(2, "little", signed=True)
    assert g711.lin_to_ulaw((0).to_bytes(2, "little")) == b"\xff"


def test_alaw_reference_values():
    assert g711.alaw_to_lin(bytes([0xD5, 0x55, 0x2A, 0xAA])) == b"".join(
        v.to_bytes(2, "little", signed=True) for v in (8, -8, -32256, 32256)
    )


@pytest.mark.parametrize("decode,encode", [(g711.ulaw_to_lin, g711.lin_to_ulaw), (g711.alaw_to_lin, g711.lin_to_alaw)])
def test_every_code_survives_decode_then_encode(decode, encode):
    codes = bytes(range(256))
    again = encode(decode(codes))
    if encode is g711.lin_to_ulaw:  # the two µ-law zeros both encode as 0xFF
        codes = codes.replace(b"\x7f", b"\xff")
    assert again == codes


def test_encoding_is_monotonic_and_close():
    x = np.arange(-32768, 32768, 7, dtype="<i2")
    for enc, dec in ((g711.lin_to_ulaw, g711.ulaw_to_lin), (g711.lin_to_alaw, g711.alaw_to_lin)):
        y = np.frombuffer(dec(enc(x.tobytes())), dtype="<i2").astype(int)
        assert np.all(np.diff(y) >= 0)
        assert np.max(np.abs(y - x) / (np.abs(x) + 128)) < 0.07  # G.711 quantisation error bound


@pytest.mark.parametrize("pt,ref_encode,ref_decode", [
    (g711.PT_PCMU, audioop.lin2ulaw, audioop.ulaw2lin),
    (g711.PT_PCMA, audioop.lin2alaw, audioop.alaw2lin),
])
def test_matches_the_reference_on_every_input(pt, ref_encode, ref_decode):
    assert g711.encode(EVERY_SAMPLE, pt) == ref_encode(EVERY_SAMPLE, 2)  # all 65,536 samples
    assert g711.decode(EVERY_CODE, pt) == ref_decode(EVERY_CODE, 2)  # all 256 codes
    named = (g711.lin_to_ulaw, g711.ulaw_to_lin) if pt == g711.PT_PCMU else (g711.lin_to_alaw, g711.alaw_to_lin)
    assert named[0](EVERY_SAMPLE) == ref_encode(EVERY_SAMPLE, 2)
    assert named[1](EVERY_CODE) == ref_decode(EVERY_CODE, 2)


def test_packet_sized_and_odd_inputs():
    pcm = EVERY_SAMPLE[1000:1321]  # 160 samples and a stray byte
    assert g711.encode(pcm, 0) == audioop.lin2ulaw(pcm[:-1], 2)
    assert g711.silence(g711.PT_PCMU) == b"\xff" * 160 and g711.silence(g711.PT_PCMA) == b"\xd5" * 160
    with pytest.raises(ValueError, match="payload type 9 is not G.711"):
        g711.encode(pcm, 9)


def test_empty_input():
    assert g711.lin_to_ulaw(b"") == b"" and g711.ulaw_to_lin(b"") == b""
