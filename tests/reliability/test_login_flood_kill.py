"""Issue 24 item 2: a login flood, then kill -9, loses no heard answer. One process serves the console
and dials four residents over real SIP (tests/reliability/flood_worker.py); 300 wrong-password
logins arrive at once from 100 loopback addresses (benchmarks/login_flood.py --flood-only); a few
seconds into the flood, with answers being heard, the process is SIGKILLed. Every answer heard more
than GRACE before the kill is a result in the database, on SQLite and PostgreSQL. Before: the
passwords were hashed on the thread that commits the calls' answers, which then waited behind
every hash, and a kill 14 s into a 300-request burst lost every answer of four calls."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Campaign, Person, Result

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DIALOG = HERE / "fixtures" / "keypad.en-US.yaml"
GRACE = 0.5  # an answer heard this close to the kill may still be on its way to the disk
RETRY = {k: {"delays": [0], "max_attempts": 50} for k in ("no_answer", "busy", "failed", "interrupted", "congestion")}

pytestmark = [pytest.mark.slow, pytest.mark.sip]


def _port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lines:
    """A child process whose stdout lines are kept with the time each was read."""

    def __init__(self, *args: str) -> None:
        # its own process group: stop() also ends what it started, should anything outlive it (helpers
        # die with a SIGKILLed serve since bot.console.lifeline: test_helpers_die_with_serve.py)
        self.p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            item = (time.monotonic(), line.strip())
            self.seen.append(item)
            self.lines.put(item)

    def wait_for(self, prefix: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line.startswith(prefix):
                return True
        return False

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.p.pid, signal.SIGKILL)  # the group outlives its leader


def _worker_url(db) -> str:
    if not db.schema:
        return db.url
    return f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"


def test_a_login_flood_then_kill_9_loses_no_heard_answer(db, tmp_path) -> None:
    sip, residents_port, web = _port(socket.SOCK_DGRAM), _port(socket.SOCK_DGRAM), _port(socket.SOCK_STREAM)
    base = 42000 + (os.getpid() % 40) * 100

    def setup(s):
        c = Campaign(name="login-flood", status="running", concurrency=4, window_start="00:00", window_end="00:00",
                     retry_policy=RETRY, dialog_name="keypad-flood", dialog_path=str(DIALOG))
        s.add(c)
        s.flush()
        for i in range(8):
            s.add(Person(campaign_id=c.id, name=f"Resident {i}", phone=f"+8613800{i:06d}"))

    db.run(setup)
    residents = Lines(str(HERE / "residents.py"), str(residents_port), f"{base + 50}-{base + 98}")
    worker = flood = None
    try:
        assert residents.wait_for("READY", 30), "".join(residents.err)
        worker = Lines(str(HERE / "flood_worker.py"), _worker_url(db), str(sip), str(residents_port),
                       f"{base}-{base + 48}", str(web))
        assert worker.wait_for("READY", 60), "".join(worker.err)
        assert worker.wait_for("HEARD", 60), "no answer heard: " + "".join(worker.err)
        flood = Lines(str(REPO / "benchmarks" / "login_flood.py"), "--flood-only", f"http://127.0.0.1:{web}",
                      "--flood", "300", "--sources", "100")
        t_flood = time.monotonic()
        deadline = t_flood + 30
        while time.monotonic() < deadline:  # answers heard while the flood is being hashed
            during = [t for t, line in worker.seen if line.startswith("HEARD") and t > t_flood + 1.0]
            if len(during) >= 4 and time.monotonic() > t_flood + 4.0:
                break
            time.sleep(0.1)
        assert flood.p.poll() is None, "the flood was over before the kill: " + "".join(flood.err)
        os.kill(worker.p.pid, signal.SIGKILL)
        t_kill = time.monotonic()
        worker.p.wait(10)
    finally:
        for proc in (flood, worker, residents):
            if proc is not None:
                proc.stop()
        if worker is not None:
            (tmp_path / "worker.log").write_text("".join(worker.err), encoding="utf-8")

    heard = [(t, line.split()) for t, line in worker.seen if line.startswith("HEARD")]
    during = [h for t, h in heard if t_flood + 1.0 < t < t_kill - GRACE]
    assert len(during) >= 2, f"only {len(during)} answers heard during the flood: the test proves nothing"
    stored = {(r.attempt_id, r.slot) for r in db.run(lambda s: s.exec(select(Result)).all(), write=False)}
    lost = [(int(a), slot) for t, (_, a, slot) in heard if t < t_kill - GRACE and (int(a), slot) not in stored]
    assert not lost, f"{len(lost)} of {len(heard)} heard answers lost: {lost} (log: {tmp_path})"
    print(f"heard={len(heard)} during-flood={len(during)} stored={len(stored)} kill={t_kill - t_flood:.1f}s "
          f"into the flood")
