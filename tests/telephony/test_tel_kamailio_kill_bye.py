"""Issue 23 item 4: Kamailio's dispatcher spreads calls over two worker processes, one worker is
SIGKILLed while it holds calls: inbound ones through Kamailio, and one its campaign dialer placed.
Its residents get a BYE from the surviving worker within seconds (its sweep for dead siblings:
`WorkerEndpoint`, `InboundLegs.orphans(own=False)`), the inbound ones along Kamailio's
Record-Route; the survivor's own residents stay on the line until it hangs up on them itself.
Each resident is a SIPp (uac_await_bye.xml calling in, uas_await_bye.xml called) that exits 0
only once a BYE ended its call."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from sip_peers import Kamailio, free_udp_port, scenario, start_sipp
from sqlmodel import select
from test_tel_kamailio import Worker, until

from storage.models import Attempt, AttemptState, Campaign, InboundLeg, Person

DIALOG = Path(__file__).parents[1] / "reliability" / "fixtures" / "keypad.en-US.yaml"

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.postgres]
BYE_WITHIN = 12.0  # seconds after the kill (the sweep runs every 5 s)


def _legs(db) -> list[str]:
    return sorted(leg.sip_dialog["call_id"] for leg in db.run(lambda s: s.exec(select(InboundLeg)).all(), write=False))


async def test_killed_workers_residents_get_a_bye_from_the_survivor_whose_calls_go_on(pg_db, tmp_path: Path) -> None:
    db = pg_db
    arrivals: list[tuple[float, str, str]] = []
    rtp = 34000 + (os.getpid() % 50) * 200
    a = Worker("a", tmp_path, rtp, arrivals, (db.url, db.schema))
    b = Worker("b", tmp_path, rtp + 100, arrivals, (db.url, db.schema), env={"DIAL": "1"})  # b dials too
    lb = Kamailio(tmp_path, [a.port, b.port])
    residents: list[tuple[str, str, asyncio.subprocess.Process]] = []  # (worker, Call-ID, SIPp)
    called_port = free_udp_port()
    with b.config.open("a") as f:
        f.write(f'trunk = "sip:127.0.0.1:{called_port}"\ncaller_id = "96110"\n')
    db.run(lambda s: (s.add(camp := Campaign(name="c", status="running", concurrency=1, window_start="00:00",
                                             window_end="00:00", dialog_name="keypad", dialog_path=str(DIALOG))),
                      s.flush(), s.add(Person(campaign_id=camp.id, name="Resident", phone="+8613900000001"))))
    called = await start_sipp(["-sf", str(scenario("uas_await_bye.xml", tmp_path, WAIT_MS="60000")), "-i", "127.0.0.1",
                               "-p", str(called_port), "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
                               "-m", "1", "-aa"], tmp_path)
    try:
        await asyncio.gather(a.start(), b.start())

        def dialled() -> bool:  # b's dialer placed the call and it was answered: its dialog is on the attempt
            att = db.run(lambda s: s.exec(select(Attempt)).first(), write=False)
            return att is not None and att.sip_dialog is not None and att.claimed_by is not None

        await until(dialled, 20, "worker b's dialled call to be answered")
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
        assert all(p.returncode is None for _, _, p in residents) and called.returncode is None

        await b.kill()  # SIGKILL: b sends nothing, ever
        killed = time.monotonic()
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for _, _, p in [*on_b, ("b", "", called)])),
                                       BYE_WITHIN + 10)
        on_b.append(("b", "dialled", called))
        bye_after = time.monotonic() - killed
        assert codes == [0] * len(on_b)  # each got a BYE (answered 200) for its own dialog
        print(f"BYE to the dead worker's {len(on_b)} resident(s) {bye_after:.1f} s after the kill")
        assert bye_after <= BYE_WITHIN
        assert _legs(db) == sorted(c for _, c, _ in on_a)  # the survivor's calls are untouched
        att = db.run(lambda s: s.exec(select(Attempt)).one(), write=False)
        assert (att.state, att.sip_dialog) == (AttemptState.INTERRUPTED, None)  # settled as the dialer's recovery

        await asyncio.sleep(2.0)  # ... and stay up
        assert all(p.returncode is None for _, _, p in on_a)
        assert a.proc.returncode is None
        await a.stop()  # a hangs up on its own residents: their calls were alive until now
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for _, _, p in on_a)), 15)
        assert codes == [0] * len(on_a)
    finally:
        for _, _, p in [*residents, ("", "", called)]:
            if p.returncode is None:
                p.kill()
                await p.wait()
        if lb.proc is not None:
            lb.stop()
        await asyncio.gather(a.stop(), b.stop())
