"""Helper processes die with the process that started them (`veribot serve`).

Password checks (bot.console.hashing) and parsing jobs (bot.console.worker) run in processes forked
by multiprocessing's forkserver. When serve is SIGKILLed (out of memory, an operator's kill -9) the
forkserver and the pool workers it forked stayed behind, ~100 MB each: a pool worker holds the
write end of its own job queue, so it never sees an end of input, and the forkserver waits for
every worker it forked. Here, on Linux, the forkserver asks the kernel for SIGKILL when serve dies
and each process it forks for SIGKILL when the forkserver dies (PR_SET_PDEATHSIG).

PR_SET_PDEATHSIG fires when the *thread* that started the process ends: serve starts the
forkserver from its event loop thread, which lives as long as serve. Should it start from a
shorter-lived thread, the forkserver ends with that thread and multiprocessing starts a fresh one
on next use (a broken password pool is retried once: bot.console.hashing)."""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
from multiprocessing.context import BaseContext

PARENT_ENV = "VERIBOT_FORKSERVER_PARENT"  # the pid the forkserver must die with
PRELOAD = "bot.console.forkserver_lifeline"  # imported by the forkserver only: it calls `forkserver_started`
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Linux: this process is SIGKILLed when its parent ends; it exits now when `parent` (the pid
    that started it) is no longer its parent, having died before the request took effect.
    Elsewhere nothing changes (there is no such request)."""
    if not sys.platform.startswith("linux"):
        return
    # Hand-written: python-prctl needs libcap headers to build, for one call that ctypes makes.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # refused (a sandbox): the process lives as before
    if parent and os.getppid() != parent:
        os._exit(1)


_forkserver: int | None = None  # in the forkserver: its pid, which the processes it forks die with


def _forked() -> None:
    global _forkserver
    parent, _forkserver = _forkserver, None  # what a pool worker forks in turn is not bound here
    if parent is not None:
        die_with_parent(parent)


def forkserver_started() -> None:
    """In the forkserver, once: die with serve, and have each process forked from here die with this one."""
    global _forkserver
    die_with_parent(int(os.environ.get(PARENT_ENV) or 0))
    _forkserver = os.getpid()
    os.register_at_fork(after_in_child=_forked)


def install() -> None:
    """Before this process starts its forkserver: the forkserver and every process it forks die
    with this process. Call it early, from the main thread (it sets an environment variable); later
    calls change nothing. A forkserver already running is not changed."""
    pid = str(os.getpid())
    if os.environ.get(PARENT_ENV) != pid:  # a child of another veribot inherits the variable
        os.environ[PARENT_ENV] = pid
    multiprocessing.forkserver.set_forkserver_preload(["__main__", PRELOAD])


def forkserver_context() -> BaseContext:
    """multiprocessing's "forkserver" context (a clean child, not a fork of this threaded server),
    its processes tied to this one's life (`install`)."""
    install()
    return multiprocessing.get_context("forkserver")
