"""Two worker processes on one database share a campaign by free capacity: each claims a share of
the free lines per round and pauses between full rounds, so both are busy (not one taking every
line while the other idles, as with whole claims) and neither goes over its own `max_calls`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Attempt, Campaign, Person

WORKER = Path(__file__).with_name("share_worker.py")
PEOPLE = 36
CONCURRENCY = 6


@pytest.mark.slow
@pytest.mark.parametrize("capacities", [(50, 50), (2, 50)], ids=["default-capacity", "small-and-large"])
def test_two_workers_split_a_campaign_by_free_capacity(db, capacities):
    def setup(s):
        c = Campaign(name="share", status="paused", concurrency=CONCURRENCY, window_start="00:00",
                     window_end="00:00")
        s.add(c)
        s.flush()
        for i in range(PEOPLE):
            s.add(Person(campaign_id=c.id, name=f"p{i}", phone=f"+86139{i:08d}", priority=1))

    db.run(setup)
    url = db.url
    if db.schema:  # the worker needs the same schema: pass it through the libpq options
        url = f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"
    procs = [subprocess.Popen([sys.executable, str(WORKER), url, f"w{n}", str(cap), "0.2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n, cap in enumerate(capacities)]
    try:
        for p in procs:  # both workers are up before the campaign starts: a fair start
            assert p.stdout.readline().strip() == "READY", p.stderr.read()

        def start(s):
            c = s.exec(select(Campaign)).one()
            c.status = "running"
            s.add(c)

        db.run(start)
        outs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    acks = [sum(line.startswith("ACK") for line in out.splitlines()) for out, _ in outs]
    peaks = [int(next(line.split()[1] for line in out.splitlines() if line.startswith("PEAK"))) for out, _ in outs]
    assert sum(acks) == PEOPLE
    for cap, peak in zip(capacities, peaks, strict=True):
        assert 1 <= peak <= cap, (peaks, capacities)  # busy, and never over its own capacity
    if capacities[0] == capacities[1]:  # equal free capacity: neither sits idle while the other works
        assert min(acks) >= PEOPLE // 4, acks
    else:
        assert min(acks) >= 3, acks
    attempts = db.run(lambda s: s.exec(select(Attempt)).all(), write=False)
    events = sorted([(a.claimed_at, 1) for a in attempts] + [(a.ended_at, -1) for a in attempts],
                    key=lambda e: (e[0], e[1]))
    live = peak = 0
    for _, d in events:
        live += d
        peak = max(peak, live)
    assert peak <= CONCURRENCY  # the campaign's limit holds across both workers
    assert {p.state for p in db.run(lambda s: s.exec(select(Person)).all(), write=False)} == {"completed"}
