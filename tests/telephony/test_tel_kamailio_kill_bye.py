"""Issue 23 item 4: Kamailio's dispatcher spreads calls over two worker processes, one worker is
SIGKILLed while it holds calls. Its residents get a BYE from the surviving worker within seconds
(its sweep for dead siblings: `WorkerEndpoint`, `InboundLegs.orphans(own=False)`), along Kamailio's
Record-Route; the survivor's own residents stay on the line until it hangs up on them itself.
Each resident is a SIPp UAC (uac_await_bye.xml) that exits 0 only once a BYE ended its call."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from sip_peers import Kamailio, free_udp_port, scenario, start_sipp
from sqlmodel import select
from test_tel_kamailio import Worker, until

from storage.models import InboundLeg

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.postgres]
BYE_WITHIN = 12.0  # seconds after the kill (the sweep runs every 5 s)


def _legs(db) -> list[str]:
    return sorted(leg.sip_dialog["call_id"] for leg in db.run(lambda s: s.exec(select(InboundLeg)).all(), write=False))


async def test_killed_workers_residents_get_a_bye_from_the_survivor_whose_calls_go_on(pg_db, tmp_path: Path) -> None:
    db = pg_db
    arrivals: list[tuple[float, str, str]] = []
    rtp = 34000 + (os.getpid() % 50) * 200
    a = Worker("a", tmp_path, rtp, arrivals, (db.url, db.schema))
    b = Worker("b", tmp_path, rtp + 100, arrivals, (db.url, db.schema))
    lb = Kamailio(tmp_path, [a.port, b.port])
    residents: list[tuple[str, str, asyncio.subprocess.Process]] = []  # (worker, Call-ID, SIPp)
    try:
        await asyncio.gather(a.start(), b.start())
        lb.start()
        sf = scenario("uac_await_bye.xml", tmp_path, CALLER="13800000001", WAIT_MS="60000")
        for _ in range(4):  # one SIPp per resident: its exit code is its own call's fate
            n = len(arrivals)
            proc = await start_sipp([f"127.0.0.1:{lb.port}", "-sf", str(sf), "-s", "96110", "-i", "127.0.0.1",
                                     "-p", str(free_udp_port()), "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
                                     "-m", "1"], tmp_path)
            await until(lambda n=n: len(arrivals) > n, 20, "the call to reach a worker")
            residents.append((arrivals[n][1], arrivals[n][2], proc))
        on_a = [r for r in residents if r[0] == "a"]
        on_b = [r for r in residents if r[0] == "b"]
        assert on_a and on_b, [r[:2] for r in residents]  # round robin put calls on both
        assert _legs(db) == sorted(c for _, c, _ in residents)  # every call's dialog is held
        assert all(p.returncode is None for _, _, p in residents)

        await b.kill()  # SIGKILL: b sends nothing, ever
        killed = time.monotonic()
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for _, _, p in on_b)), BYE_WITHIN + 10)
        bye_after = time.monotonic() - killed
        assert codes == [0] * len(on_b)  # each got a BYE (answered 200) for its own dialog
        print(f"BYE to the dead worker's {len(on_b)} resident(s) {bye_after:.1f} s after the kill")
        assert bye_after <= BYE_WITHIN
        assert _legs(db) == sorted(c for _, c, _ in on_a)  # the survivor's calls are untouched

        await asyncio.sleep(2.0)  # ... and stay up
        assert all(p.returncode is None for _, _, p in on_a)
        assert a.proc.returncode is None
        await a.stop()  # a hangs up on its own residents: their calls were alive until now
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for _, _, p in on_a)), 15)
        assert codes == [0] * len(on_a)
    finally:
        for _, _, p in residents:
            if p.returncode is None:
                p.kill()
                await p.wait()
        if lb.proc is not None:
            lb.stop()
        await asyncio.gather(a.stop(), b.stop())
