"""Password checks in their own process, away from the web server's threads.

argon2 takes ~0.1-0.5 s of CPU and 64 MiB per check. In a thread of the server it still cost the
thread that commits the calls' answers up to 290 ms of stalls on a loaded 2-core machine
(measured: a 5 ms sleep in another thread overslept by p99 57 ms, max 287 ms; with the hashing
in another process p99 39 ms, max 49 ms). So checks run in one worker process (started
from a clean forkserver, not a fork of the threaded server), one at a time: a login burst uses
at most one core and 64 MiB, and never the server's GIL. This module imports only argon2 and
bot.console.lifeline (the stdlib only), so the worker starts fast; it dies with the server."""

from __future__ import annotations

import asyncio
import atexit
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.console.lifeline import forkserver_context

_hasher = PasswordHasher()
MAX_WAITING = 200  # logins waiting for a check beyond this are refused at once (503): memory bounded
_pool: ProcessPoolExecutor | None = None
_waiting = 0


class HashingBusy(RuntimeError):
    """Too many logins are waiting for a password check: try again in a few seconds."""


def verify(hashed: str, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one's parameters are out of date). CPU-heavy."""
    try:
        if not _hasher.verify(hashed, password):
            return False, None
    except (VerificationError, InvalidHashError):
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(hashed) else None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        workers = max(1, (os.cpu_count() or 2) // 2)
        _pool = ProcessPoolExecutor(workers, mp_context=forkserver_context())  # dies with this process
        atexit.register(close)
    return _pool


def close() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def check(hashed: str, password: str) -> tuple[bool, str | None]:
    """`verify` in the hashing process; HashingBusy when MAX_WAITING checks are already waiting."""
    global _waiting, _pool
    if _waiting >= MAX_WAITING:
        raise HashingBusy("too many logins at once")
    _waiting += 1
    try:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(_executor(), verify, hashed, password)
        except BrokenProcessPool:  # the worker died (killed, out of memory): a fresh one, once
            _pool = None
            return await loop.run_in_executor(_executor(), verify, hashed, password)
    finally:
        _waiting -= 1
