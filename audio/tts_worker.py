"""A long-lived synthesis worker process spoken to in JSON lines, with a timeout.

Engines that are not safe to run in the calling process (pyttsx3 is not thread-safe and can
hang on repeated `runAndWait()`; TensorFlow 2.15 needs numpy<2 and so its own venv) run in
one separate process each. A request is one JSON line, the reply one JSON line
`["ok", detail]` or `["error", detail]`. A worker that hangs past `timeout` or dies is
killed and replaced on the next request. Calls are serialised by a lock. A worker whose parent
dies (`veribot serve` SIGKILLed) exits within a second, even in the middle of a request."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARENT_ENV = "VERIBOT_TTS_PARENT"  # the pid the worker must not outlive
PARENT_POLL = 0.5  # seconds between the worker's looks at its parent


class SynthesisError(RuntimeError):
    """A prompt could not be synthesized (engine missing, failed, timed out)."""


class EngineUnavailable(SynthesisError):
    """The engine is not installed on this machine (its venv, package or model is missing)."""


class WorkerProcess:
    def __init__(self, command: list[str], timeout: float = 20.0, start_timeout: float | None = None) -> None:
        self.command = command
        self.timeout = timeout
        # the first request also waits for the engine to load (TensorFlow: a few seconds)
        self.start_timeout = start_timeout if start_timeout is not None else timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._fresh = False
        self._pid = os.getpid()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (for memory measurements)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _forked(self) -> None:
        """In a forked child the parent's worker, pipes and lock are not ours: start over."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._proc = None

    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   **{PARENT_ENV: str(os.getpid())})
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, text=True, bufsize=1,
        )
        self._fresh = True

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for f in (self._proc.stdin, self._proc.stdout):
                if f:
                    with contextlib.suppress(OSError):  # a dead worker's pipe: closing flushes into nothing
                        f.close()
        self._proc = None

    def _reply(self) -> list:
        assert self._proc is not None and self._proc.stdout is not None
        wait = self.start_timeout if self._fresh else self.timeout
        ready, _, _ = select.select([self._proc.stdout], [], [], wait)
        if not ready:
            self._kill()
            self.restarts += 1
            raise SynthesisError(f"synthesis timed out after {wait}s; worker replaced")
        line = self._proc.stdout.readline()
        if not line:
            raise EOFError("worker closed its output")
        self._fresh = False
        return json.loads(line)

    def request(self, payload: list) -> str:
        """Send one request; the reply's detail, or SynthesisError."""
        self._forked()
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                try:
                    self._start()
                except OSError as exc:
                    raise SynthesisError(f"cannot start {self.command[0]}: {exc}") from exc
            try:
                assert self._proc is not None and self._proc.stdin is not None
                self._proc.stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
                self._proc.stdin.flush()
                status, detail = self._reply()
            except (EOFError, OSError, ValueError) as exc:
                self._kill()
                self.restarts += 1
                raise SynthesisError(f"synthesis worker failed: {exc}") from exc
            if status != "ok":
                raise SynthesisError(detail)
            return detail

    def close(self) -> None:
        self._forked()
        with self._lock:
            if self._proc is not None and self._proc.stdin is not None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()


def exit_with_parent(parent: int, every: float = PARENT_POLL) -> None:
    """A daemon thread ends this process as soon as `parent` is no longer its parent. Its input
    closing would end it too, but only after the request in hand (an engine may hang for good).
    Not PR_SET_PDEATHSIG: that fires when the parent's *thread* that started the worker ends,
    and workers are started from whichever thread asks first."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(make_handler) -> None:
    """The worker side: `make_handler()` loads the engine and returns `handle(request) ->
    detail`, called per JSON line on stdin. Anything the engine prints goes to stderr;
    stdout carries replies only. The worker ends with the process that started it."""
    import sys

    exit_with_parent(int(os.environ.get(PARENT_ENV) or os.getppid()))
    out = sys.stdout
    sys.stdout = sys.stderr
    handle = make_handler()
    for line in sys.stdin:
        try:
            reply = ["ok", handle(json.loads(line))]
        except Exception as exc:  # reported to the parent, which decides
            reply = ["error", f"{type(exc).__name__}: {exc}"]
        out.write(json.dumps(reply) + "\n")
        out.flush()
