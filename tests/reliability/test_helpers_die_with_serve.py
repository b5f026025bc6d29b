"""A SIGKILLed `veribot serve` leaves no process behind. Its password checks run in a pool forked by
multiprocessing's forkserver (bot.console.hashing), parsing jobs in another (bot.console.worker), voices
in synthesis workers (audio.tts_worker). Before: after a kill -9 the forkserver and its pool worker lived
on, ~100 MB each, one pair per killed serve; a synthesis worker in a hung request lived until it ended."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storage.db import Database
from tests.console.live import Server, write_config
from tests.console.seed import PASSWORD, add_users

REPO = Path(__file__).resolve().parents[2]
GONE_WITHIN = 5.0  # seconds after the kill


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time in ticks) of a process, None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[tuple[int, int], str]:
    """{(pid, start time): command line} of every process below `root` now."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))):
            parents.setdefault(st[1], []).append(int(entry))
    found, todo = {}, list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        st = _stat(pid)
        if st is None:
            continue
        with contextlib.suppress(OSError):
            found[(pid, st[2])] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        todo += parents.get(pid, [])
    return found


def alive(procs: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
    """Those of `procs` still running (the same pid and start time, not a zombie)."""
    return {k: v for k, v in procs.items() if (st := _stat(k[0])) and st[2] == k[1] and st[0] != "Z"}


def wait_gone(procs: dict[tuple[int, int], str], within: float = GONE_WITHIN) -> dict[tuple[int, int], str]:
    deadline = time.monotonic() + within
    while (left := alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def end(procs: dict[tuple[int, int], str]) -> None:
    """Kill what is left of `procs` (only those: by pid and start time), so a failure leaves nothing."""
    for pid, _ in alive(procs):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_killed_serve_leaves_no_helper_process_after_a_login(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    server = Server(write_config(tmp_path, url), tmp_path / "serve.log")
    helpers: dict[tuple[int, int], str] = {}
    try:
        db = Database(url)  # serve has migrated it
        try:
            add_users(db, ("admin1", "admin"))
        finally:
            db.dispose()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/login", body=f"username=admin1&password={PASSWORD.replace(' ', '+')}&csrf=t",
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "vb_precsrf=t"})
        assert conn.getresponse().status == 303, server.log()  # logged in: the password was checked
        conn.close()
        helpers = descendants(server.proc.pid)
        assert any("forkserver" in cmd for cmd in helpers.values()), helpers  # else the test proves nothing
        assert len(helpers) >= 2, helpers  # the forkserver and the pool worker it forked
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        left = wait_gone(helpers)
        assert not left, f"still running {GONE_WITHIN} s after serve was killed: {sorted(left.values())}"
    finally:
        end(helpers)
        server.stop()


PARENT = """
import sys, time
from concurrent.futures import ProcessPoolExecutor
from bot.console.lifeline import forkserver_context
import multiprocessing
context = forkserver_context()
pool = ProcessPoolExecutor(1, mp_context=context)  # as bot.console.hashing
assert pool.submit(abs, -1).result() == 1
jobs = multiprocessing.get_context("forkserver").Pool(1)  # as bot.console.worker
assert jobs.apply(abs, (-2,)) == 2
print("READY", flush=True)
time.sleep(600)
"""


def _started(code: str, ready: str, timeout: float = 30.0) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(ready) or not line:
            return proc
    return proc


def test_forkserver_pools_die_with_their_killed_parent() -> None:
    """Both kinds of pool the console starts, the forkserver's `install`ed by their first user."""
    proc = _started(PARENT, "READY")
    helpers: dict[tuple[int, int], str] = {}
    try:
        helpers = descendants(proc.pid)
        assert proc.poll() is None and len(helpers) >= 3, helpers  # forkserver, two pool workers (+ tracker)
        proc.kill()
        proc.wait(10)
        left = wait_gone(helpers)
        assert not left, f"still running after the parent was killed: {sorted(left.values())}"
    finally:
        end(helpers)
        proc.kill()
        proc.wait(10)


def test_a_synthesis_worker_in_a_hung_request_dies_with_its_killed_parent(tmp_path: Path) -> None:
    marker = tmp_path / "in-request"
    hang = (f"import time; from audio.tts_worker import serve; "
            f"serve(lambda: lambda req: (open({str(marker)!r}, 'w').close(), time.sleep(600)))")
    parent = textwrap.dedent(f"""
        import sys, threading, time
        from audio.tts_worker import WorkerProcess
        worker = WorkerProcess([sys.executable, "-c", {hang!r}], timeout=600)
        threading.Thread(target=worker.request, args=(["hello"],), daemon=True).start()
        print("READY", flush=True)
        time.sleep(600)
    """)
    proc = _started(parent, "READY")
    helpers: dict[tuple[int, int], str] = {}
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the worker never took the request"
        helpers = descendants(proc.pid)
        assert len(helpers) == 1, helpers
        proc.kill()
        proc.wait(10)
        left = wait_gone(helpers, within=3.0)
        assert not left, f"the synthesis worker outlived its killed parent: {sorted(left.values())}"
    finally:
        end(helpers)
        proc.kill()
        proc.wait(10)
