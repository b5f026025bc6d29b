"""Crash test: a worker process running a campaign of fake calls is SIGKILLed at random moments,
at least 50 times, and restarted each time. Afterwards every acknowledged outcome is in the
database, no result is missing, no number ever had two active attempts, and everyone is settled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from campaign_fakes import SLOTS
from sqlalchemy import text
from sqlmodel import select

from storage.db import Database
from storage.models import Attempt, Campaign, Person, Result

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 50
PEOPLE = 600
FAST_RETRY = {k: {"delays": [0], "max_attempts": 4} for k in ("no_answer", "busy", "failed")}
FAST_RETRY["interrupted"] = {"delays": [0], "max_attempts": 100}


def _start(url: str, seed: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), url, "crash-worker", str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _acks(out: str) -> list[tuple[int, int, str]]:
    acks = []
    for line in out.splitlines(keepends=True):
        parts = line.split()
        if line.endswith("\n") and len(parts) == 5 and parts[0] == "ACK":
            acks.append((int(parts[1]), int(parts[2]), parts[3]))
    return acks


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(db):
    rng = random.Random(20261126)

    def setup(s):
        c = Campaign(name="crash", status="running", concurrency=8, window_start="00:00", window_end="00:00",
                     retry_policy=FAST_RETRY)
        s.add(c)
        s.flush()
        for i in range(PEOPLE):
            s.add(Person(campaign_id=c.id, name=f"p{i}", phone=f"+86138{i:08d}", priority=rng.randint(1, 5)))

    db.run(setup)
    url = db.url
    if db.schema:  # the worker processes need the test's schema: through the libpq options
        url = f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"
    acked: list[tuple[int, int, str]] = []
    kills = 0
    while kills < KILLS:
        proc = _start(url, kills)
        line = proc.stdout.readline()  # READY (or EOF if it exited at once)
        assert line.startswith("READY") or proc.poll() is not None, proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.35))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        out, err = proc.communicate(timeout=30)
        acked += _acks(out)
        assert proc.returncode in (0, -signal.SIGKILL), err
        if proc.returncode == 0:
            break  # the campaign finished before we had killed enough: fail below
    assert kills >= KILLS, f"campaign ended after only {kills} kills: make it longer"
    t_final = time.monotonic()
    final = _start(url, 999)
    out, err = final.communicate(timeout=120)
    t_final = time.monotonic() - t_final
    assert final.returncode == 0, err
    acked += _acks(out)

    attempts = db.run(lambda s: s.exec(select(Attempt)).all(), write=False)
    people = {p.id: p for p in db.run(lambda s: s.exec(select(Person)).all(), write=False)}
    results = defaultdict(dict)
    for r in db.run(lambda s: s.exec(select(Result)).all(), write=False):
        results[r.attempt_id][r.slot] = r.value
    by_id = {a.id: a for a in attempts}

    # 1. every acknowledged outcome is stored, exactly as acknowledged
    for attempt_id, person_id, outcome in acked:
        a = by_id[attempt_id]
        assert (a.person_id, a.outcome) == (person_id, outcome)
        assert a.state == ("interrupted" if outcome == "interrupted" else "ended")
    # outcomes committed but not acknowledged can only be the calls live at a kill
    unacked = {a.id for a in attempts if a.state == "ended"} - {a for a, _, _ in acked}
    assert len(unacked) <= kills * 8
    # 2. no result missing: every answered call has all its slots
    for a in attempts:
        if a.outcome in ("completed", "escalated"):
            assert set(results[a.id]) == set(SLOTS), a.id
    # 3. everyone is settled, consistently with their last attempt
    assert {p.state for p in people.values()} <= {"completed", "escalated", "failed"}
    last = {}
    for a in sorted(attempts, key=lambda a: a.id):
        last[a.person_id] = a
    for pid, p in people.items():
        assert p.attempt_count == sum(1 for a in attempts if a.person_id == pid and a.state == "ended"
                                      or a.person_id == pid and a.state == "interrupted" and a.started_at)
        if p.state in ("completed", "escalated"):
            assert last[pid].outcome == p.state
    # 4. no number ever had two active attempts: their lifetimes never overlap
    spans = defaultdict(list)
    for a in attempts:
        assert a.ended_at is not None, f"attempt {a.id} left active ({a.state})"
        spans[a.phone].append((a.claimed_at, a.ended_at))
    for phone, ss in spans.items():
        ss.sort()
        for (_, end), (start, _) in zip(ss, ss[1:], strict=False):
            assert end <= start, phone
    assert db.run(lambda s: s.exec(select(Campaign)).one(), write=False).status == "done"
    if db.dialect == "sqlite":
        with Database(db.url).engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    print(f"kills={kills} attempts={len(attempts)} acked={len(acked)} unacked-final={len(unacked)} "
          f"last run={t_final:.1f}s")
