"""The one rule a worker's new outbound call passes before it is dialled: wait in line until the
worker's Headroom (bot/pipeline/headroom.py) admits it.

    gate = StartGate(headroom)                 # one per worker process, beside its Admission
    if await gate.wait(give_up=lambda: ...):   # True: admitted and counted as started; dial now
        ...

`Headroom.admit()` says whether one more call may start *now*: not while the worker holds, at most
`starts_per_second` starts a second evenly spaced (`ramp_per_second` while a sign is near its stop
level), and only as many young calls as the signs have seen (slow start). A call it refuses waits
here, first come first started (a lock: a call that just arrived does not overtake those already
waiting), polling again when `next_start()` says the ramp may let the next one go. The dialer
(bot/campaigns/dialing/one_call.py) and the SIP load benchmark (benchmarks/sip_load_worker.py) both
start their calls through this, so the benchmark measures the rule a deployment runs.

`declined` counts calls that had to wait, `later` those of them started once admitted; a wait that
gave up (`give_up()` true: the dialer stops waiting once the worker holds, its person is called a
poll later; the benchmark at the end of its window) returns False and the call is not started."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


class StartGate:
    """Waits new calls in line until `headroom.admit()` (see the module text)."""

    def __init__(self, headroom: Any, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.headroom = headroom
        self.sleep = sleep
        self._line = asyncio.Lock()  # calls waiting for the worker: first come, first started
        self.declined = 0  # calls that had to wait
        self.later = 0  # of those, started once admitted
        self.waiting = 0  # calls waiting now

    async def wait(self, give_up: Callable[[], bool] | None = None, deadline: float | None = None) -> bool:
        """True once this call may start (it is counted as started); False if `give_up()` turned
        true or the monotonic `deadline` passed first (the call is not started)."""
        if not self._line.locked() and self.headroom.admit():
            return True
        self.declined += 1
        self.waiting += 1
        try:
            async with self._line:
                while not (give_up is not None and give_up()) and (deadline is None or time.monotonic() < deadline):
                    if self.headroom.admit():
                        self.later += 1
                        return True
                    await self.sleep(min(0.25, max(0.01, self.headroom.next_start())))
                return False
        finally:
            self.waiting -= 1


__all__ = ["StartGate"]
