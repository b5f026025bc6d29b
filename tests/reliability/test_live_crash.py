"""The crash test over real SIP: a dialer worker (the SIP runner of `veribot serve`, keypad
conversation, real RTP) calling 20 scripted residents is SIGKILLed mid-call 10 times and
restarted each time, on SQLite and PostgreSQL. Afterwards: every answer heard before a kill is a
result; no later call asks a question whose answer was stored (identity included: a resumed call
says the resume line instead, bot.dialog.resuming); every SIP leg live at a kill ended (BYE from the
restarted worker) within 10 s of the kill; no number was ever in two attempts at once."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Attempt, Campaign, Person, Result, Turn
from tests.campaigns.campaign_fakes import assert_never_two_attempts_at_once

HERE = Path(__file__).parent
DIALOG = HERE / "fixtures" / "keypad.en-US.yaml"
PEOPLE, ROUNDS, LEG_GRACE = 20, 10, 10.0
ASK_SLOT = {"identity": "identity", "health_code": "health_code", "isolation": "isolation",
            "nat_result": "nat_result", "notice": "notice_ack"}
RETRY = {k: {"delays": [0], "max_attempts": 50} for k in ("no_answer", "busy", "failed", "interrupted", "congestion")}

pytestmark = [pytest.mark.slow, pytest.mark.sip]


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose stdout lines are read by a thread (a kill never blocks the test)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
        self.p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.all: list[str] = []
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            self.all.append(line.strip())
            self.lines.put(line.strip())
        self.lines.put("")

    def wait_for(self, word: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line == word:
                return True
            if line == "" and self.p.poll() is not None:
                return False
        return False


def _worker_url(db) -> str:
    if not db.schema:
        return db.url
    return f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"


def test_kill_workers_mid_call_over_sip_loses_nothing_and_leaves_no_leg(db, tmp_path):
    rng = random.Random(20261204)
    port = _udp_port()
    base = 36000 + (os.getpid() % 50) * 40 * 2
    residents = Proc(str(HERE / "residents.py"), str(port), f"{base + 400}-{base + 798}")
    assert residents.wait_for("READY", 30), "".join(residents.err)

    def setup(s):
        c = Campaign(name="live-crash", status="running", concurrency=8, window_start="00:00", window_end="00:00",
                     retry_policy=RETRY, dialog_name="keypad-crash", dialog_path=str(DIALOG))
        s.add(c)
        s.flush()
        for i in range(PEOPLE):
            s.add(Person(campaign_id=c.id, name=f"Resident {i}", phone=f"+8613900{i:06d}"))

    db.run(setup)
    url = _worker_url(db)
    worker_args = [str(HERE / "live_worker.py"), url, str(_udp_port()), str(port), f"{base}-{base + 398}"]
    kills: list[float] = []
    workers: list[Proc] = []
    try:
        for _round in range(ROUNDS):
            w = Proc(*worker_args)
            workers.append(w)
            assert w.wait_for("READY", 60), "".join(w.err)
            assert w.wait_for("HEARD", 60), "no answer heard: " + "".join(w.err)
            time.sleep(rng.uniform(0.0, 4.0))  # calls take ~10 s and start at different times
            assert w.p.poll() is None, "the campaign ended before the kills: " + "".join(w.err)
            os.kill(w.p.pid, signal.SIGKILL)
            kills.append(time.time())
            w.p.wait(10)
        t0 = time.monotonic()
        final = Proc(*worker_args)
        workers.append(final)
        final.p.wait(240)
        assert final.p.returncode == 0, "".join(final.err)
        t_final = time.monotonic() - t0
        time.sleep(1.0)  # the residents print the last calls' ends
    finally:
        residents.p.kill()
        residents.p.wait(10)
        for i, w in enumerate(workers):  # kept for a failure's post-mortem
            (tmp_path / f"worker-{i}.log").write_text("".join(w.err) + "\n".join(w.all), encoding="utf-8")
        (tmp_path / "residents.log").write_text("\n".join(residents.all) + "".join(residents.err), encoding="utf-8")
        (tmp_path / "kills.json").write_text(json.dumps(kills), encoding="utf-8")

    legs = [json.loads(line) for line in residents.all if line.startswith("{")]
    attempts = sorted(db.run(lambda s: s.exec(select(Attempt)).all(), write=False), key=lambda a: a.id)
    turns = db.run(lambda s: s.exec(select(Turn).order_by(Turn.attempt_id, Turn.seq)).all(), write=False)
    results = defaultdict(dict)
    for r in db.run(lambda s: s.exec(select(Result)).all(), write=False):
        results[r.attempt_id][r.slot] = r.value

    # 1. every answer heard and accepted before a kill is a result of its attempt
    heard = [t for t in turns if t.speaker == "caller" and t.step in ASK_SLOT and t.parse
             and t.parse.get("value") is not None and not t.parse.get("intent")]
    interrupted_heard = {t.attempt_id for t in heard} & {a.id for a in attempts if a.state == "interrupted"}
    assert interrupted_heard, "no kill landed after an answer: the test proves nothing"
    for t in heard:
        assert ASK_SLOT[t.step] in results[t.attempt_id], (t.attempt_id, t.step)
    # 2. no later call asks again what an earlier call of the person stored (identity too)
    asked = defaultdict(set)
    for t in turns:
        if t.speaker == "bot" and t.step in ASK_SLOT:
            asked[t.attempt_id].add(t.step)
    known = defaultdict(set)
    for a in attempts:
        again = {step for step in asked[a.id] if ASK_SLOT[step] in known[a.person_id]}
        assert not again, (a.id, again)
        known[a.person_id] |= {slot for slot, v in results[a.id].items() if v is not None}
    # 3. every SIP leg live at a kill ended within LEG_GRACE s of it, by a BYE
    orphans = [(leg, min(k for k in kills if k > leg["start"])) for leg in legs
               if any(leg["start"] < k < leg["end"] for k in kills)]
    assert len(orphans) >= ROUNDS, f"only {len(orphans)} legs were live at a kill"
    late = [(round(leg["end"] - k, 1), leg["end_reason"]) for leg, k in orphans if leg["end"] - k > LEG_GRACE]
    assert not late, f"legs outlived their worker by more than {LEG_GRACE} s: {late} (logs: {tmp_path})"
    assert {leg["end_reason"] for leg, _ in orphans} == {"remote_bye"}
    # 4. no double dialling: no number in two attempts at once; everyone completed
    assert_never_two_attempts_at_once(attempts)
    people = db.run(lambda s: s.exec(select(Person)).all(), write=False)
    assert {p.state for p in people} == {"completed"}
    assert len(legs) >= len([a for a in attempts if a.started_at]) - 1  # every dialled attempt rang a resident
    print(f"kills={len(kills)} attempts={len(attempts)} legs={len(legs)} live-at-kill={len(orphans)} "
          f"max-orphan-life={max(leg['end'] - k for leg, k in orphans):.1f}s final-run={t_final:.0f}s")
