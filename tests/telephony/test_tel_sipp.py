"""SIPp against the real endpoint: failure paths of outbound calls, 40 inbound calls with
speech and DTMF from a pcap, and blind transfer to an operator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sip_peers import REPO, free_udp_port, run_sipp, scenario, sipp_call

from audio.synthesis import speak
from bot.calls import CallRequest, NetworkOutcome
from bot.dialog.script import load_script
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.calls.worker_endpoint import inbound_handler
from bot.telephony.media.pcap import rtp_packets, write_pcap
from bot.telephony.settings import Secret

pytestmark = [pytest.mark.sip, pytest.mark.slow]
SCRIPT = REPO / "dialogs" / "verification.en-US.yaml"


def _request(phone: str) -> CallRequest:
    return CallRequest("t-1", phone, {"name": "Li Lei"}, load_script(SCRIPT),
                       variables={"agency": "City Police", "callback_number": "96110", "caller_id": "96110"})


def _sipp_trunk(name: str, tmp_path: Path):
    """A SIPp trunk running scenario `name` for one call, expecting user veribot / s3cret."""
    return sipp_call(scenario(name, tmp_path, USER="veribot", PASSWORD="s3cret"), tmp_path)


async def _leak_free(ep) -> None:
    """Slot, port and tasks come back within 1 s of the result."""
    for _ in range(50):
        if ep.busy == 0 and not ep.ports.in_use and not ep._tasks:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"leak: busy={ep.busy} ports={ep.ports.in_use} tasks={ep._tasks}")


@pytest.mark.parametrize(
    ("name", "outcome", "status"),
    [("uas_busy.xml", NetworkOutcome.BUSY, 486), ("uas_ring_noanswer.xml", NetworkOutcome.NO_ANSWER, 408)],
)
async def test_outbound_failures_map_to_outcomes_and_are_acked(make_endpoint, tmp_path: Path, name, outcome, status) -> None:
    async with sipp_call(scenario(name, tmp_path), tmp_path) as (port, sipp):
        ep = await make_endpoint(ring_timeout=1.0)
        result = await SipCallRunner(ep).run(_request(f"sip:resident@127.0.0.1:{port}"))
        assert (result.network, result.sip_status) == (outcome, status)
        await _leak_free(ep)
        # SIPp's scenario ends only once it got our ACK for the final response (pitfall 2)
        assert await asyncio.wait_for(sipp.wait(), 10) == 0


@pytest.mark.parametrize(
    ("status", "reason", "extra", "outcome", "retry"),
    [
        (404, "Not Found", "", NetworkOutcome.BAD_NUMBER, None),
        (484, "Address Incomplete", "", NetworkOutcome.BAD_NUMBER, None),
        (480, "Temporarily Unavailable", "", NetworkOutcome.NO_ANSWER, None),
        (603, "Decline", "", NetworkOutcome.DECLINED, None),
        (503, "Service Unavailable", "Retry-After: 120", NetworkOutcome.CONGESTION, 120.0),
    ],
)
async def test_final_responses_map_to_outcomes(make_endpoint, tmp_path: Path, status, reason, extra, outcome, retry) -> None:
    sf = scenario("uas_reject.xml", tmp_path, STATUS=str(status), REASON=reason, EXTRA=extra or "X-Test: 1")
    async with sipp_call(sf, tmp_path) as (port, sipp):
        ep = await make_endpoint()
        result = await SipCallRunner(ep).run(_request(f"sip:resident@127.0.0.1:{port}"))
        assert (result.network, result.sip_status, result.retry_after) == (outcome, status, retry)
        await _leak_free(ep)
        assert await asyncio.wait_for(sipp.wait(), 10) == 0  # our ACK arrived


@pytest.mark.parametrize(("password", "status"), [("s3cret", 486), ("wrong", 403)])
async def test_digest_authentication_towards_the_trunk(make_endpoint, tmp_path: Path, password, status) -> None:
    async with _sipp_trunk("uas_auth.xml", tmp_path) as (port, sipp):
        ep = await make_endpoint(trunk=f"sip:127.0.0.1:{port}", auth_user="veribot", auth_password=Secret(password))
        result = await SipCallRunner(ep).run(_request("+8613812345678"))  # a bare number goes via the trunk
        assert result.sip_status == status  # 486 only when the trunk accepted our credentials
        assert await asyncio.wait_for(sipp.wait(), 10) == 0  # every final (401, then 486/403) was ACKed


async def test_forty_inbound_calls_twenty_at_once_with_speech_and_dtmf(make_endpoint, tmp_path: Path) -> None:
    speech = await speak("hello, yes it is me", "en-US")
    pcap = write_pcap(tmp_path / "caller.pcap", rtp_packets([b"\x00" * 16000, speech, "1", b"\x00" * 8000]))
    records = []
    handler = inbound_handler(
        _settings_for_inbound(), {"agency": "City Police", "callback_number": "96110", "caller_id": "96110"},
        lookup=lambda number: {"name": "Li Lei"},
        on_result=lambda req, res: records.append(res),
        verify=lambda call, number: True,  # as if every caller proved who they are
    )
    ep = await make_endpoint(handler, capacity=25, inbound_dialog=str(SCRIPT), media_inactivity=30,
                             trusted_sources=("127.0.0.1",),  # SIPp plays the trunk
                             inbound_share=1.0)  # an inbound-only worker: every line may take a call
    sf = scenario("uac_pcmu_pcap.xml", tmp_path, CALLER_PCAP=str(pcap))
    tasks_before = len(asyncio.all_tasks())
    code, out = await run_sipp(
        [f"127.0.0.1:{ep.local_addr[1]}", "-sf", str(sf), "-s", "bot", "-i", "127.0.0.1", "-p", str(free_udp_port()),
         "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-l", "20", "-m", "40", "-r", "20", "-timeout", "80s"],
        tmp_path, limit_s=100,
    )
    assert code == 0, out[-3000:]
    await _leak_free(ep)
    assert len(asyncio.all_tasks()) <= tasks_before  # no RTP clock, call or timer task left behind
    assert len(records) == 40
    for res in records:
        assert res.record.slots["identity"] == "yes"  # the pcap's DTMF 1 answered the identity question
        texts = [t.text for t in res.record.transcript if t.speaker == "bot"]
        assert any("Li Lei" in t for t in texts)


def _settings_for_inbound():
    from bot.telephony.settings import TelephonySettings

    return TelephonySettings(inbound_dialog=str(SCRIPT))


@pytest.mark.parametrize(("password", "state"), [("s3cret", "registered"), ("wrong", "failed")])
async def test_register_with_the_trunk(make_endpoint, tmp_path: Path, password, state) -> None:
    async with _sipp_trunk("uas_register.xml", tmp_path) as (port, _):
        ep = await make_endpoint(trunk=f"sip:127.0.0.1:{port}", register=True, auth_user="veribot",
                                 auth_password=Secret(password))
        for _ in range(100):
            if ep.registration.state.value in ("registered", "failed"):
                break
            await asyncio.sleep(0.02)
        assert ep.registration.state.value == state
