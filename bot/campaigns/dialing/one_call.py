"""One claimed call of the dialer (bot/campaigns/dialing/dialer.py): its start slot, the headroom
check just before dialling, the runner, and the final record — stored now or owed to the database.

`start_rate` (calls a second, 0: no limit) paces how fast a worker starts calls: a campaign with
150 free lines fills them over 150/rate seconds, one call every 1/rate s, instead of dialling all at
once. Carriers limit call attempts per second anyway, and calls started together run in step (the
same prompts, the same questions at the same moment): their answers then reach recognition in one
burst (150 lines started within 3 s on 2 cores: p95 1.57 s instead of 0.26 s; benchmarks/call_load.py
--start-spread, README "Performance").

A call claimed while the worker had headroom but still waiting for its start slot when the worker
holds (`holding()`, bot/pipeline/headroom.py) is not dialled: its person is pending again a poll later.
After its start slot a call passes the worker's `starts` (StartGate, bot/pipeline/headroom_gate.py):
the same rule inbound calls and the SIP load benchmark's calls pass, so the dialer honours the
headroom's start ramp (5 starts a second, 1 a second near a limit, slow start), not just its holds;
a call whose wait ends in a hold is not dialled either.
A final record the database refuses (disk full, database down) is kept and written by the next tick
that can (`_pay_debts`), with the escalations spooled meanwhile.

`CallSteps` is a mixin of `Dialer`: it reads the dialer's settings and state (`self.db`, `self.runner`,
`self._live_claims`...) and keeps no state of its own.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.attempt.attempt import Attempt, outcome_of
from bot.calls import CallResult, CallRunner, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.inbound.call_codes import code_variables
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.engine import Parser
from bot.settings import localised
from storage.db import Database

log = logging.getLogger(__name__)


class CallSteps:
    """The per-call half of `Dialer` (see the module text); the attributes below are the dialer's."""

    db: Database
    runner: CallRunner
    clock: Callable[[], datetime]
    scripts: ScriptSource
    variables: dict[str, str]
    live_variables: Callable[[], dict[str, str]] | None
    parser: Parser | None
    outbox: bool
    spool: EscalationSpool
    alarm: Any
    suppression_days: float
    poll_seconds: float
    start_rate: float
    holding: Callable[[], Any] | None
    starts: Any  # the worker's StartGate (bot/pipeline/headroom_gate.py) or None
    held_back: int
    on_final: Callable[[Claim, str], None] | None
    _next_start: float
    _unfinished: list[tuple]
    _live_claims: list[Claim]
    live: dict[int, asyncio.Task]
    _wake: asyncio.Event

    # ------------------------------------------------------------ start slots (start_rate)
    def _start_budget(self) -> int | None:
        """How many more calls may be given a start slot within the next poll interval (None: no limit)."""
        if not self.start_rate:
            return None
        now = asyncio.get_running_loop().time()
        horizon = max(self.poll_seconds, 1 / self.start_rate)
        booked = max(0.0, self._next_start - now)  # start slots already handed out ahead of now
        return max(0, math.floor((horizon - booked) * self.start_rate + 1e-9))

    def _start_delay(self) -> float:
        """Seconds the next call waits for its start slot (one call every 1/start_rate s)."""
        if not self.start_rate:
            return 0.0
        now = asyncio.get_running_loop().time()
        at = max(self._next_start, now)
        self._next_start = at + 1 / self.start_rate
        return at - now

    def _holding_now(self) -> bool:
        return self.holding is not None and self.holding() is not None

    # ------------------------------------------------------------ one call
    def _release(self, claim: Claim) -> None:
        """A call task ended (even one cancelled before it ran): free its line."""
        self.live.pop(claim.attempt_id, None)
        if claim in self._live_claims:
            self._live_claims.remove(claim)
        self._wake.set()

    def _recordings(self, script: Any) -> dict[str, bytes]:
        recordings_for = getattr(self.scripts, "recordings_for", None)  # a test's source may have none
        return recordings_for(script) if recordings_for is not None else {}

    async def _call(self, claim: Claim, script: Any, policy: RetryPolicy,
                    recordings: dict[str, bytes] | None = None, delay: float = 0.0) -> None:
        rec = Attempt(self.db, claim, script, clock=self.clock, outbox=self.outbox, spool=self.spool,
                      suppression_days=self.suppression_days)
        live = self.live_variables() if self.live_variables else {}  # an admin's number/badge, read per call
        request = rec.request({**localised({**self.variables, **live}, script.locale),
                               **code_variables(claim.call_code), **claim.variables},
                              parser=self.parser, recordings=recordings or {})
        try:
            try:
                if delay > 0:  # its start slot (start_rate)
                    await asyncio.sleep(delay)
                if self._holding_now() or (self.starts is not None and not await self.starts.wait(give_up=self._holding_now)):
                    self.held_back += 1  # no headroom now (held, or held while its start was ramped): dialled later
                    retry_at = self.clock() + timedelta(seconds=self.poll_seconds)
                    await self.db.arun(lambda s: ops.unplace(s, claim.attempt_id, self.clock(), retry_at,
                                                             "not dialled: the worker held new calls (headroom)"))
                    return
                result = await self.runner.run(request)
            except asyncio.CancelledError:
                result = CallResult(NetworkOutcome.FAILED, detail="interrupted: dialer stopping")
                await asyncio.shield(self._finish(rec, claim, policy, result, "interrupted"))
                raise
            except Exception as exc:
                log.error("attempt %s: runner failed: %s", claim.attempt_id, type(exc).__name__)
                result = CallResult(NetworkOutcome.FAILED, detail=f"runner error: {type(exc).__name__}")
            if not result.placed:  # refused by our own capacity: not the resident's attempt
                retry_at = self.clock() + timedelta(seconds=result.retry_after or self.poll_seconds)
                await self.db.arun(lambda s: ops.unplace(s, claim.attempt_id, self.clock(), retry_at))
                log.info("attempt %s not placed (this worker's lines were full): person pending again",
                         claim.attempt_id)
                return
            try:
                await self._finish(rec, claim, policy, result, outcome_of(result))
            except SQLAlchemyError as exc:  # disk full / database down: kept, retried by every tick
                self.alarm.failed(exc)
                log.error("attempt %s: final record not stored (%s); retried until the database takes it",
                          claim.attempt_id, type(exc).__name__)
                self._unfinished.append((rec, claim, policy, result, outcome_of(result)))
                self._live_claims.append(claim)  # the campaign is not done while it is owed
        except asyncio.CancelledError:
            raise
        except Exception:  # the record could not be written: recovery marks the attempt interrupted
            log.exception("attempt %s: final record not stored", claim.attempt_id)

    async def _finish(self, rec: Attempt, claim: Claim, policy: RetryPolicy, result: CallResult,
                      outcome: str) -> None:
        await rec.settle(result, policy, outcome=outcome, now=self.clock())
        if self.on_final is not None:
            self.on_final(claim, outcome)

    async def _pay_debts(self) -> None:
        """Write what ended calls still owe the database: spooled escalations, final records."""
        if len(self.spool):
            await asyncio.to_thread(self.spool.replay, self.db)
        while self._unfinished:
            rec, claim, policy, result, outcome = self._unfinished[0]
            await self._finish(rec, claim, policy, result, outcome)
            self._unfinished.pop(0)
            if claim in self._live_claims:
                self._live_claims.remove(claim)
            log.warning("attempt %s: final record stored after the database recovered", claim.attempt_id)


__all__ = ["CallSteps"]
