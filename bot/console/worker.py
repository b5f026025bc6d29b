"""A separate process for CPU-heavy parsing started from the web console (dialog drafts,
people uploads): the event loop only awaits it, and a job over its time limit is killed."""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any, TypeVar

log = logging.getLogger("veribot.console.worker")
T = TypeVar("T")


class ProcessWorker:
    """Runs parsing jobs in one separate process, so a hostile draft or upload never holds the
    web server's event loop (live calls, other users). A job slower than `timeout` has the
    process killed (jobs queued behind it fail too) and the next job starts a fresh one."""

    def __init__(self, timeout: float, what: str = "job") -> None:
        self.timeout = timeout
        self.what = what
        self._pool: Pool | None = None
        self._pending: set[asyncio.Future[Any]] = set()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker; TimeoutError when it takes longer than `timeout`."""
        loop = asyncio.get_running_loop()
        if self._pool is None:
            # forkserver: a clean child, not a fork of this threaded server
            self._pool = multiprocessing.get_context("forkserver").Pool(1)
            atexit.register(self.close)
        pool = self._pool
        done: asyncio.Future[T] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            if not done.done():
                done.set_result(value) if ok else done.set_exception(value)

        pool.apply_async(fn, args, callback=lambda v: loop.call_soon_threadsafe(settle, True, v),
                         error_callback=lambda e: loop.call_soon_threadsafe(settle, False, e))
        self._pending.add(done)
        try:
            return await asyncio.wait_for(done, self.timeout)
        except TimeoutError:
            if self._pool is pool:
                self._pool = None
                await asyncio.to_thread(pool.terminate)
                log.warning("%s killed after %.1f s", self.what, self.timeout)
                for other in self._pending:
                    if not other.done():
                        other.set_exception(TimeoutError())
            raise
        finally:
            self._pending.discard(done)

    def close(self) -> None:
        atexit.unregister(self.close)
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
