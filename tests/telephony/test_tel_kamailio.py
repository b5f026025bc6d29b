"""Two veribot workers behind Kamailio's dispatcher: calls are split between them, and
when one dies in the middle of a run the new calls move to the other (failover on timeout)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sip_peers import Kamailio, free_udp_port, run_sipp, scenario

from bot.telephony.call import SipCall

pytestmark = [pytest.mark.sip, pytest.mark.slow]


async def test_two_workers_round_robin_and_failover(make_endpoint, tmp_path: Path) -> None:
    arrivals: list[tuple[float, str]] = []

    def worker(name: str):
        async def inbound(call: SipCall) -> None:
            arrivals.append((time.monotonic(), name))
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

        def sipp(n: int, rate: int):
            return run_sipp([f"127.0.0.1:{lb.port}", "-sf", str(sf), "-s", "bot", "-i", "127.0.0.1",
                             "-p", str(free_udp_port()), "-m", str(n), "-l", str(n), "-r", str(rate),
                             "-timeout", "40s"], tmp_path, limit_s=60)

        code, out = await sipp(8, 5)
        assert code == 0, out[-3000:]
        served = [w for _, w in arrivals]
        assert served.count("a") >= 3 and served.count("b") >= 3 and len(served) == 8  # round robin
        assert a.busy == 0 and b.busy == 0  # the BYEs came back through Kamailio (Record-Route kept)

        arrivals.clear()
        run = asyncio.ensure_future(sipp(10, 4))  # a second run; b dies in the middle of it
        for _ in range(200):
            if any(w == "b" for _, w in arrivals):
                break
            await asyncio.sleep(0.02)
        killed = time.monotonic()
        b.transport._udp_transport.close()  # worker b is gone: no BYE, no answers
        await run  # calls live on b fail; that is what a crash does
        after = [w for t, w in arrivals if t > killed]
        assert len(after) >= 6 and set(after) == {"a"}  # every new call went to the survivor
        await asyncio.sleep(0.2)
        assert a.busy == 0 and not a.ports.in_use
    finally:
        lb.stop()
