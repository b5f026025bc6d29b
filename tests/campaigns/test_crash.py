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
from campaign_fakes import SLOTS, assert_never_two_attempts_at_once
from sqlalchemy import text
from sqlmodel import select

from storage.db import Database
from storage.models import Attempt, Campaign, Person, Result, Turn

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 50
PEOPLE = 600
FAST_RETRY = {k: {"delays": [0], "max_attempts": 4} for k in ("no_answer", "busy", "failed")}
FAST_RETRY["interrupted"] = {"delays": [0], "max_attempts": 100}


def _start(url: str, seed: int, *mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), url, "crash-worker", str(seed), *mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _worker_url(db) -> str:
    if not db.schema:
        return db.url
    # the worker processes need the test's schema: through the libpq options
    return f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"


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
    url = _worker_url(db)
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
    assert_never_two_attempts_at_once(attempts)
    assert db.run(lambda s: s.exec(select(Campaign)).one(), write=False).status == "done"
    if db.dialect == "sqlite":
        with Database(db.url).engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    print(f"kills={kills} attempts={len(attempts)} acked={len(acked)} unacked-final={len(unacked)} "
          f"last run={t_final:.1f}s")


ASK_SLOT = {"identity": "identity", "residence": "residence", "health_code": "health_code",
            "isolation": "isolation", "nat_count": "nat_count", "nat_result": "nat_result", "notice": "notice_ack"}


@pytest.mark.slow
def test_every_answer_heard_before_a_kill_is_a_result_and_is_not_asked_again(db):
    """Workers holding real conversations (answer by answer) are SIGKILLed mid-call. Every answer
    the bot heard and accepted (its caller turn is stored) is a result afterwards, and no later
    call of that person asks a question whose answer an earlier call stored, identity included
    (a resumed call says the resume line instead: bot.dialog.resuming)."""
    rng = random.Random(20261204)

    def setup(s):
        c = Campaign(name="heard", status="running", concurrency=8, window_start="00:00", window_end="00:00",
                     retry_policy=FAST_RETRY)
        s.add(c)
        s.flush()
        for i in range(200):
            s.add(Person(campaign_id=c.id, name=f"p{i}", phone=f"+86137{i:08d}"))

    db.run(setup)
    url = _worker_url(db)
    kills = 0
    while kills < 12:
        proc = _start(url, kills, "talk")
        line = proc.stdout.readline()
        assert line.startswith("READY") or proc.poll() is not None, proc.stderr.read()
        while line and not line.startswith("TALKING"):  # until the first answer was heard
            line = proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, -signal.SIGKILL), err
        if proc.returncode == 0:
            break
    assert kills >= 12, f"campaign ended after only {kills} kills: make it longer"
    final = _start(url, 999, "talk")
    _out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err

    attempts = sorted(db.run(lambda s: s.exec(select(Attempt)).all(), write=False), key=lambda a: a.id)
    turns = db.run(lambda s: s.exec(select(Turn).order_by(Turn.attempt_id, Turn.seq)).all(), write=False)
    results = defaultdict(dict)
    for r in db.run(lambda s: s.exec(select(Result)).all(), write=False):
        results[r.attempt_id][r.slot] = r.value
    interrupted_mid_call = [a for a in attempts if a.state == "interrupted"
                            and any(t.attempt_id == a.id and t.speaker == "caller" for t in turns)]
    assert interrupted_mid_call, "no kill landed in a conversation: the test proves nothing"

    # 1. every answer heard and accepted before the kill is a result of its attempt
    for t in turns:
        if t.speaker == "caller" and t.step in ASK_SLOT and t.parse and t.parse.get("value") is not None \
                and not t.parse.get("intent"):
            assert ASK_SLOT[t.step] in results[t.attempt_id], (t.attempt_id, t.step, t.text)
    # 2. a later call never asks again what an earlier call of the person stored
    asked = defaultdict(set)
    for t in turns:
        if t.speaker == "bot" and t.step in ASK_SLOT:
            asked[t.attempt_id].add(t.step)
    known = defaultdict(set)  # person -> slots stored by their earlier attempts
    for a in attempts:
        again = {step for step in asked[a.id] if ASK_SLOT[step] in known[a.person_id]}
        assert not again, (a.id, again)
        known[a.person_id] |= {slot for slot, v in results[a.id].items() if v is not None}
    # 3. everyone ends completed, with every answer
    people = db.run(lambda s: s.exec(select(Person)).all(), write=False)
    assert {p.state for p in people} == {"completed"}
    print(f"kills={kills} attempts={len(attempts)} interrupted mid-call={len(interrupted_mid_call)}")
