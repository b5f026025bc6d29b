import pytest

from audio import g711


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
    import numpy as np

    x = np.arange(-32768, 32768, 7, dtype="<i2")
    for enc, dec in ((g711.lin_to_ulaw, g711.ulaw_to_lin), (g711.lin_to_alaw, g711.alaw_to_lin)):
        y = np.frombuffer(dec(enc(x.tobytes())), dtype="<i2").astype(int)
        assert np.all(np.diff(y) >= 0)
        assert np.max(np.abs(y - x) / (np.abs(x) + 128)) < 0.07  # G.711 quantisation error bound


def test_matches_audioop_when_available():
    audioop = pytest.importorskip("audioop")
    import numpy as np

    x = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert g711.lin_to_ulaw(x) == audioop.lin2ulaw(x, 2)
    assert g711.lin_to_alaw(x) == audioop.lin2alaw(x, 2)


def test_empty_input():
    assert g711.lin_to_ulaw(b"") == b"" and g711.ulaw_to_lin(b"") == b""
