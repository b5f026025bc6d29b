"""Race test: two worker processes claim the same campaign at once; nobody is called twice, and the
campaign's concurrency limit holds across both (PostgreSQL: FOR UPDATE / SKIP LOCKED; SQLite:
BEGIN IMMEDIATE; both: the partial unique index)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Attempt, Campaign, Person

WORKER = Path(__file__).with_name("crash_worker.py")
PEOPLE = 300


@pytest.mark.slow
def test_two_workers_never_call_anyone_twice(db):
    def setup(s):
        c = Campaign(name="race", status="running", concurrency=12, window_start="00:00", window_end="00:00")
        s.add(c)
        s.flush()
        for i in range(PEOPLE):
            s.add(Person(campaign_id=c.id, name=f"p{i}", phone=f"+86139{i:08d}", priority=1 + i % 3))

    db.run(setup)
    env_url = db.url
    args = []
    if db.schema:  # the worker needs the same schema: pass it through the libpq options
        env_url = f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"
    procs = [subprocess.Popen([sys.executable, str(WORKER), env_url, f"racer-{n}", str(n), "answered", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    calls = [line.split() for out, _ in outs for line in out.splitlines() if line.startswith("ACK")]
    per_worker = [sum(1 for line in out.splitlines() if line.startswith("ACK")) for out, _ in outs]
    assert all(n > 0 for n in per_worker), per_worker  # both really took part
    called = Counter(c[4] for c in calls)
    assert len(called) == PEOPLE and max(called.values()) == 1
    attempts = db.run(lambda s: s.exec(select(Attempt)).all(), write=False)
    assert len(attempts) == PEOPLE and {a.claimed_by for a in attempts} == {"racer-1", "racer-2"}
    assert Counter(a.phone for a in attempts).most_common(1)[0][1] == 1
    assert {p.state for p in db.run(lambda s: s.exec(select(Person)).all(), write=False)} <= {"completed", "escalated"}
    # concurrency: at no moment were more than 12 calls of the campaign live across both workers
    events = sorted([(a.claimed_at, 1) for a in attempts] + [(a.ended_at, -1) for a in attempts],
                    key=lambda e: (e[0], e[1]))
    live = peak = 0
    for _, d in events:
        live += d
        peak = max(peak, live)
    assert peak <= 12
