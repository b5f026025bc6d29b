"""SDP offer/answer for G.711 + RFC 4733 telephone-event (what phones and trunks speak)."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from aiosipua import SdpMessage, parse_sdp

CODEC_PT = {"PCMU": 0, "PCMA": 8}
DTMF_PT = 101


class SdpError(ValueError):
    """The peer's SDP has no usable audio (answered with 488)."""


@dataclass(frozen=True)
class MediaChoice:
    peer: tuple[str, int]
    payload_type: int  # 0 PCMU / 8 PCMA
    dtmf_payload_type: int | None


def build_sdp(host: str, port: int, payload_types: list[int], dtmf_pt: int | None = DTMF_PT) -> SdpMessage:
    fmts = [str(pt) for pt in payload_types] + ([str(dtmf_pt)] if dtmf_pt is not None else [])
    names = {0: "PCMU", 8: "PCMA"}
    lines = [
        "v=0",
        f"o=veribot {random.getrandbits(31)} 1 IN IP4 {host}",
        "s=veribot",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(fmts)}",
    ]
    lines += [f"a=rtpmap:{pt} {names[pt]}/8000" for pt in payload_types]
    if dtmf_pt is not None:
        lines += [f"a=rtpmap:{dtmf_pt} telephone-event/8000", f"a=fmtp:{dtmf_pt} 0-16"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return parse_sdp("\r\n".join(lines) + "\r\n")


def offer(host: str, port: int, codecs: tuple[str, ...]) -> SdpMessage:
    return build_sdp(host, port, [CODEC_PT[c] for c in codecs])


# what aiosipua 0.7.1's SDP parser raises on garbage (found by tests/telephony/test_tel_fuzz.py)
_PARSER_ERRORS = (ValueError,)  # UnicodeError included


def parse(text: str) -> SdpMessage:
    """The peer's SDP, or SdpError saying it does not parse."""
    try:
        return parse_sdp(text)
    except _PARSER_ERRORS as exc:
        raise SdpError(f"unparsable SDP ({type(exc).__name__})") from exc


def choose(remote: SdpMessage | str | None, codecs: tuple[str, ...]) -> MediaChoice:
    """Pick the first of our codecs the peer lists (in the peer's order for an offer)."""
    if remote is None:
        raise SdpError("no SDP")
    if isinstance(remote, str):
        remote = parse(remote)
    try:
        audio = remote.audio
        addr = remote.rtp_address
    except _PARSER_ERRORS as exc:
        raise SdpError(f"unusable SDP ({type(exc).__name__})") from exc
    if audio is None or addr is None or audio.port == 0:
        raise SdpError("no audio stream in SDP")
    if not 0 < audio.port < 65536:
        raise SdpError(f"media port {audio.port} out of range")
    try:
        if ipaddress.ip_address(addr[0]).version != 4:
            raise SdpError("media address is not IPv4 (RTP is bound on IPv4)")
    except ValueError as exc:  # a host name: nothing resolves names on the media path
        raise SdpError("media address is not an IP address") from exc
    names: dict[int, str] = {}
    for c in audio.codecs:
        names[c.payload_type] = c.encoding_name.upper()
    ours = {CODEC_PT[c] for c in codecs}
    chosen: int | None = None
    dtmf: int | None = None
    for f in audio.formats:
        try:
            pt = int(f)
        except ValueError:
            continue
        name = names.get(pt, {0: "PCMU", 8: "PCMA"}.get(pt, ""))
        if chosen is None and pt in ours and name in ("PCMU", "PCMA"):
            chosen = pt
        if name == "TELEPHONE-EVENT" and dtmf is None:
            dtmf = pt
    if chosen is None:
        raise SdpError(f"no common codec (peer offers {audio.formats}, we speak {list(codecs)})")
    return MediaChoice((addr[0], addr[1]), chosen, dtmf)


def answer(host: str, port: int, choice: MediaChoice) -> SdpMessage:
    return build_sdp(host, port, [choice.payload_type], choice.dtmf_payload_type)
