"""Escalation with an operator configured: blind transfer (REFER) to a SIPp UAS playing
the operator; the resident's softphone follows the REFER; our leg is hung up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sip_peers import REPO, free_udp_port, start_sipp

from bot.calls import CallRequest, NetworkOutcome
from bot.dialog.script import load_script
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.calls.softphone import Resident, Softphone, parse_answers

pytestmark = [pytest.mark.sip, pytest.mark.slow]
SCRIPT = REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml"  # the real script, short greeting


async def test_requested_human_is_transferred_to_the_operator(make_endpoint, tmp_path: Path) -> None:
    op_port = free_udp_port()
    operator = await start_sipp(["-sn", "uas", "-i", "127.0.0.1", "-p", str(op_port), "-m", "1", "-rtp_echo"], tmp_path)
    try:
        phone_ep = await make_endpoint()
        phone = Softphone(phone_ep, Resident(parse_answers(["dtmf:0"]), "en-US"))
        bot = await make_endpoint(operator_uri=f"sip:operator@127.0.0.1:{op_port}")
        request = CallRequest("t-2", f"sip:resident@127.0.0.1:{phone_ep.local_addr[1]}", {"name": "Li Lei"},
                              load_script(SCRIPT), variables={"agency": "City Police", "callback_number": "96110"})
        result = await SipCallRunner(bot).run(request)
        assert result.network is NetworkOutcome.ANSWERED
        assert result.detail == "transferred"
        assert result.record.escalation.reason == "requested_human"
        assert any("transferring" in t.text for t in result.record.transcript)  # spoken notice first
        await asyncio.wait_for(phone.finished.wait(), 10)
        assert phone.calls[0].transferred_to.endswith(f":{op_port}")
        assert await asyncio.wait_for(operator.wait(), 15) == 0  # the operator got the call and its BYE
        assert bot.busy == 0 and not bot.ports.in_use
    finally:
        if operator.returncode is None:
            operator.kill()
            await operator.wait()


async def test_a_failed_transfer_leaves_the_case_for_the_queue(make_endpoint, tmp_path: Path) -> None:
    from sip_peers import scenario

    op_port = free_udp_port()
    operator = await start_sipp(["-sf", str(scenario("uas_busy.xml", tmp_path)), "-i", "127.0.0.1",
                                 "-p", str(op_port), "-m", "1"], tmp_path)
    try:
        phone_ep = await make_endpoint()
        Softphone(phone_ep, Resident(parse_answers(["dtmf:0"]), "en-US"))
        bot = await make_endpoint(operator_uri=f"sip:operator@127.0.0.1:{op_port}")
        request = CallRequest("t-4", f"sip:resident@127.0.0.1:{phone_ep.local_addr[1]}", {"name": "Li Lei"},
                              load_script(SCRIPT), variables={"agency": "City Police", "callback_number": "96110"})
        result = await SipCallRunner(bot).run(request)
        assert result.network is NetworkOutcome.ANSWERED and result.detail != "transferred"
        assert result.record.outcome == "escalated"  # stored with its transcript: the queue takes it
        assert result.record.escalation.reason == "requested_human"
        assert await asyncio.wait_for(operator.wait(), 10) == 0  # the operator line was busy
        assert bot.busy == 0 and not bot.ports.in_use
    finally:
        if operator.returncode is None:
            operator.kill()
            await operator.wait()
