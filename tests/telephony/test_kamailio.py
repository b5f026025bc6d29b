"""Two veribot workers behind Kamailio's dispatcher: calls are split between them, and
when one dies mid-run new calls move to the other (failover on timeout)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sip_peers import Kamailio, free_udp_port, run_sipp, scenario

from bot.telephony.call import SipCall

pytestmark = [pytest.mark.sip, pytest.mark.slow]


async def test_two_workers_round_robin_and_failover(make_endpoint, tmp_path: Path) -> None:
    served: Counter[str] = Counter()

    def worker(name: str):
        async def inbound(call: SipCall) -> None:
            served[name] += 1
            call.media.play(b"\x00\x10" * 4000)
            await call.ended.wait()

        return inbound

    a = await make_endpoint(worker("a"), listen=("127.0.0.1", free_udp_port()))
    b = await make_endpoint(worker("b"), listen=("127.0.0.1", free_udp_port()))
    lb = Kamailio(tmp_path, [a.local_addr[1], b.local_addr[1]])
    lb.start()
    try:
        await asyncio.sleep(1.0)
        sf = scenario("uac_echo.xml", tmp_path)

        async def calls(n: int) -> None:
            code, out = await run_sipp(
                [f"127.0.0.1:{lb.port}", "-sf", str(sf), "-s", "bot", "-i", "127.0.0.1", "-p", str(free_udp_port()),
                 "-m", str(n), "-l", str(n), "-r", "5", "-timeout", "40s"],
                tmp_path, limit_s=60,
            )
            assert code == 0, out[-3000:]

        await calls(8)
        assert served["a"] >= 3 and served["b"] >= 3 and served.total() == 8  # round robin
        assert a.busy == 0 and b.busy == 0  # the BYEs came through Kamailio (Record-Route kept)
        before = dict(served)
        b.transport._udp_transport.close()  # worker b dies: no BYE, no more answers
        await calls(6)
        assert served == {"a": before["a"] + 6, "b": before["b"]}  # every new call moved to a
    finally:
        lb.stop()
