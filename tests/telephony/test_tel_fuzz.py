"""Property-based fuzzing (Hypothesis) of the parsers that meet the network: SIP messages,
SDP bodies, RTP packets and RFC 4733 events. Whatever the bytes, the parser returns its
object or raises its own ValueError subclass — never another exception. Bounded so CI stays
fast: 400 examples per property, the same ones every run. To hunt for new failures, run with
VERIBOT_FUZZ_EXAMPLES=20000 (random examples)."""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_sip import RawSip
from sip_peers import FIXTURES

from bot.telephony.media.rtp import DtmfEvent, RtpPacket, parse_dtmf, parse_rtp
from bot.telephony.sip import sdp
from bot.telephony.sip.guard import SipParseError, parse_message
from bot.telephony.sip.sdp import SdpError

FUZZ = settings(max_examples=int(os.environ.get("VERIBOT_FUZZ_EXAMPLES", "400")), deadline=500,
                derandomize=not os.environ.get("VERIBOT_FUZZ_EXAMPLES"),  # CI: the same examples every run
                suppress_health_check=[HealthCheck.too_slow])
SIP_SEEDS = [p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
             for p in sorted((FIXTURES / "rfc4475").glob("valid/*.sip"))]
SDP_SEED = sdp.offer("192.0.2.10", 40000, ("PCMA", "PCMU")).__str__()
SDP_LINES = ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "c=IN IP6 ::1", "c=IN IP4 host.example",
             "t=0 0", "m=audio 4000 RTP/AVP 0 8 101", "m=audio 0 RTP/AVP 0", "m=audio 99999999 RTP/AVP 0",
             "m=audio x RTP/AVP 0", "m=video 5000 RTP/AVP 96", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
             "a=rtpmap:x", "a=fmtp:101 0-16", "a=sendrecv", "b=AS:64", "m=", "c=", "a="]


def mutated(seeds: list[bytes]):
    """A seed with a few bytes replaced, inserted or cut off."""

    @st.composite
    def build(draw):
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 6))):
            pos = draw(st.integers(0, max(0, len(data) - 1)))
            op = draw(st.sampled_from(["replace", "insert", "truncate"]))
            byte = draw(st.integers(0, 255))
            if op == "replace" and data:
                data[pos] = byte
            elif op == "insert":
                data.insert(pos, byte)
            else:
                del data[pos:]
        return bytes(data)

    return build()


def _sip(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except SipParseError as exc:
        assert str(exc)  # says why
        return
    assert type(msg).__name__ in ("SipRequest", "SipResponse")


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_are_a_sip_message_or_a_sip_parse_error(data: bytes) -> None:
    _sip(data)


@FUZZ
@given(mutated(SIP_SEEDS))
def test_mutated_valid_sip_messages_are_a_message_or_a_sip_parse_error(data: bytes) -> None:
    _sip(data)


def _sdp(text: str) -> None:
    try:
        choice = sdp.choose(text, ("PCMA", "PCMU"))
    except SdpError as exc:
        assert str(exc)
        return
    assert 0 < choice.peer[1] < 65536 and choice.payload_type in (0, 8)


@FUZZ
@given(st.text(max_size=600))
def test_any_text_is_a_media_choice_or_an_sdp_error(text: str) -> None:
    _sdp(text)


@FUZZ
@given(st.lists(st.sampled_from(SDP_LINES), max_size=12), st.sampled_from(["\r\n", "\n"]))
def test_recombined_sdp_lines_are_a_media_choice_or_an_sdp_error(lines: list[str], sep: str) -> None:
    _sdp(sep.join(lines) + sep)


@FUZZ
@given(mutated([SDP_SEED.encode()]))
def test_mutated_offers_are_a_media_choice_or_an_sdp_error(data: bytes) -> None:
    _sdp(data.decode("utf-8", errors="replace"))


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_an_rtp_packet_or_a_value_error(data: bytes) -> None:
    try:
        pkt = parse_rtp(data)
    except ValueError as exc:
        assert str(exc)
        return
    assert len(pkt.payload) <= len(data) - 12


@FUZZ
@given(st.builds(RtpPacket, st.integers(0, 127).filter(lambda pt: not 72 <= pt <= 76), st.integers(0, 0xFFFF),
                 st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=200), st.booleans()))
def test_rtp_packets_round_trip(pkt: RtpPacket) -> None:
    assert parse_rtp(pkt.to_bytes()) == pkt


@FUZZ
@given(st.binary(max_size=12))
def test_any_bytes_are_a_dtmf_event_or_a_value_error(data: bytes) -> None:
    try:
        event = parse_dtmf(data)
    except ValueError:
        return
    assert isinstance(event, DtmfEvent) and event.digit in "0123456789*#ABCD"


async def test_an_invite_whose_sdp_does_not_parse_gets_400(make_endpoint) -> None:
    started: list[str] = []

    async def inbound(call) -> None:
        started.append(call.call_id)

    bot = await make_endpoint(inbound)
    sip = RawSip()
    try:
        call_id, _ = sip.request("INVITE", bot.local_addr, body="v=0\r\nm=audio x RTP/AVP 0\r\n")
        await sip.wait_for(lambda: 400 in sip.statuses(call_id))
        await asyncio.sleep(0.1)
        assert started == [] and bot.transport.stats.handler_errors == 0
    finally:
        sip.close()
