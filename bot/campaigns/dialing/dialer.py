"""The dialer: claims due people of running campaigns and runs their calls through a CallRunner.

One `tick()` does one round: heartbeat + recovery, then for each running campaign inside its
calling window, claim what its concurrency (and this worker's `max_calls`) allows — the claim is
committed before anything is dialled — mark those attempts dialling, and start one task per call.
`run(stop)` ticks until `stop` is set, then lets live calls finish (up to `drain_seconds`).

Several workers on one database share a campaign by free capacity: in `run`, a round claims only
`claim_share` (half) of the campaign's free lines that this worker has room for, at least one; after a
round that got all it asked for, the worker pauses a random 0.5–1.5 poll intervals before the next,
and after one of its calls ends it waits a random 0–1 poll interval before claiming again — so the
other workers, polling meanwhile, get their turn instead of the fastest one taking every line.

`start_rate` (calls a second, 0: no limit) paces how fast a worker starts calls: a campaign with
150 free lines fills them over 150/rate seconds, one call every 1/rate s, instead of dialling all at
once. Carriers limit call attempts per second anyway, and calls started together run in step (the
same prompts, the same questions at the same moment): their answers then reach recognition in one
burst (150 lines started within 3 s on 2 cores: p95 1.57 s instead of 0.26 s; benchmarks/call_load.py
--start-spread, README "Performance").

Admission control: `holding()` (the worker's Headroom, bot/pipeline/headroom.py) says when the
worker has no headroom for one more call. Then no round claims anyone, and a call claimed earlier that
is still waiting for its start slot is not dialled: its person is pending again a poll later (declined
now, called later, nobody dropped). `start_rate` stays as it is. Each hold and its end is an audit row
(bot.campaigns.dialing.holds), so `veribot campaigns status` and the console can say it.

Time comes from `clock` (aware UTC), so windows and retry delays are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from bot.attempt.attempt import Attempt, outcome_of
from bot.calls import CallResult, CallRunner, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing import holds
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.policy import CallingWindow, RetryPolicy
from bot.campaigns.inbound.call_codes import code_variables
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.engine import Parser
from bot.settings import localised
from storage.db import Database
from storage.models import AuditEvent, Campaign, CampaignStatus, utcnow

log = logging.getLogger(__name__)

Ack = Callable[[Claim, str], None]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_local_process(worker: str) -> bool:
    """True for a default worker id (host:pid) of this host whose process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Dialer:
    def __init__(
        self,
        db: Database,
        runner: CallRunner,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        claim_ttl: float = 600.0,
        max_calls: int = 50,
        variables: dict[str, str] | None = None,
        scripts: ScriptSource | None = None,
        on_final: Ack | None = None,
        poll_seconds: float = 1.0,
        drain_seconds: float = 120.0,
        claim_share: float = 0.5,
        outbox: bool = False,
        parser: Parser | None = None,
        spool: EscalationSpool | None = None,
        suppression_days: float = 30.0,
        start_rate: float = 0.0,
        live_variables: Callable[[], dict[str, str]] | None = None,
        holding: Callable[[], Any] | None = None,
    ) -> None:
        self.db = db
        self.runner = runner
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self.ttl = timedelta(seconds=claim_ttl)
        self.max_calls = max_calls
        self.variables = dict(variables or {})
        self.live_variables = live_variables  # read as each call starts: the console's agency number/badge
        self.scripts = scripts or ScriptSource(db)
        self.on_final = on_final
        self.poll_seconds = poll_seconds
        self.drain_seconds = drain_seconds
        if not 0 < claim_share <= 1:
            raise ValueError("claim_share must be in (0, 1]")
        self.claim_share = claim_share
        if start_rate < 0:
            raise ValueError("start_rate must be 0 (no limit) or more")
        self.start_rate = start_rate
        self._next_start = 0.0  # event-loop time at which the next call may start (start_rate)
        self._paced = False  # the last round claimed fewer people than it could because of start_rate
        self._full_batch = False  # the last round got every person it asked for: more may be due
        self.outbox = outbox  # queue a webhook delivery for every person who reaches a final state
        self.parser = parser  # answer understanding for the calls (None: bot.nlu.parse, default area)
        self.suppression_days = suppression_days  # a wrong number is not dialled by other campaigns
        self.live: dict[int, asyncio.Task] = {}  # attempt id -> call task
        self.holding = holding  # the worker's Headroom.holding: a Reason (as_dict) while no new call may start
        self._held: Any = None  # the hold last written to the audit log (None: taking calls)
        self._hold_noted: datetime | None = None
        self.held_back = 0  # claimed calls not dialled because the worker held (their people dialled later)
        self._wake = asyncio.Event()
        self._started = False
        self._last_beat: datetime | None = None
        self._live_claims: list[Claim] = []
        self.spool = spool if spool is not None else EscalationSpool()  # escalations the database refused, replayed each tick
        self.alarm = self.spool.alarm  # the worker's storage alarm (console, log, inbound 503)
        self._unfinished: list[tuple] = []  # final records the database refused, retried each tick
        # the runner's `end_orphans(dialogs)` (SipCallRunner): BYE for calls of a dead worker
        self.on_ended_dialogs: Callable[[list[dict[str, Any]]], Any] | None = getattr(runner, "end_orphans", None)

    # ------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        """Dial until `stop` is set; then drain live calls (cancelled after `drain_seconds`).
        If this task is cancelled, live calls are cancelled and recorded as interrupted first."""
        try:
            while not stop.is_set():
                try:
                    await self.tick(share=self.claim_share)
                except SQLAlchemyError as exc:  # disk full, database down: the alarm, no new calls
                    self.alarm.failed(exc)
                except Exception:
                    log.exception("dialer tick failed; retrying")
                else:
                    if not self._unfinished and not len(self.spool):
                        self.alarm.recovered()
                if self._paced:  # the start rate held the round back: come back as starts free up
                    await self._rest(stop, random.uniform(0.25, 0.75) * self.poll_seconds)
                    continue
                if self._full_batch:  # more may be due: let other workers claim before the next batch
                    await self._rest(stop, random.uniform(0.5, 1.5) * self.poll_seconds)
                    continue
                self._wake.clear()
                if await self._wait(stop, self.poll_seconds, self._wake) == "wake":
                    await self._rest(stop, random.uniform(0.0, 1.0) * self.poll_seconds)  # a line came free
            await self.drain(self.drain_seconds)
        except asyncio.CancelledError:
            tasks = list(self.live.values())
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _wait(self, stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> str:
        """Wait up to `seconds` for `stop` (or `wake`); says which came: stop, wake or timeout."""
        waits = {asyncio.ensure_future(stop.wait()): "stop"}
        if wake is not None:
            waits[asyncio.ensure_future(wake.wait())] = "wake"
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        return next((waits[d] for d in done), "timeout")

    async def _rest(self, stop: asyncio.Event, seconds: float) -> None:
        await self._wait(stop, seconds)

    async def drain(self, grace: float) -> None:
        tasks = list(self.live.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def tick(self, share: float = 1.0) -> list[Claim]:
        """One round; returns the attempts it started (their calls run as tasks in `self.live`).
        `share` < 1: claim only that share of each campaign's free lines (see the module text)."""
        now = self.clock()
        self._full_batch = self._paced = False
        await self._pay_debts()  # raises while the database refuses writes: no claims, no new calls
        if not self._started:  # attempts of an earlier run of this worker (or a dead local process)
            n, orphans = 0, []
            for worker in [self.worker_id, *await self.db.arun(ops.active_workers, write=False)]:
                if worker == self.worker_id or _dead_local_process(worker):
                    n += await self.db.arun(lambda s, w=worker: ops.recover(s, now, worker=w, dialogs=orphans))
            self._started = True
            await self._end_orphans(orphans)
            if n:
                log.warning("recovered %d attempt(s) left by a worker that is gone", n)
        if self._last_beat is None or now - self._last_beat >= self.ttl / 3:
            ids = list(self.live) + [u[1].attempt_id for u in self._unfinished]
            await self.db.arun(lambda s: ops.heartbeat(s, ids, self.worker_id, now, self.ttl))
            orphans = []
            await self.db.arun(lambda s: ops.recover(s, now, dialogs=orphans))
            await self._end_orphans(orphans)
            self._last_beat = now
        started: list[Claim] = []
        if await self._hold(now):  # no headroom for one more call: nobody is claimed this round
            return started
        campaigns = await self.db.arun(
            lambda s: s.exec(select(Campaign).where(Campaign.status == CampaignStatus.RUNNING)
                             .order_by(Campaign.priority, Campaign.id)).all(), write=False)
        lines = getattr(self.runner, "outbound_lines", None)  # inbound calls hold the rest of the lines
        limit = self.max_calls if lines is None else min(self.max_calls, lines())
        for camp in campaigns:
            room = limit - len(self.live)
            if room <= 0:
                break
            started += await self._tick_campaign(camp, now, room, share)
        return started

    async def _hold(self, now: datetime) -> bool:
        """True while the worker holds new calls; writes each hold, its refresh and its end."""
        reason = self.holding() if self.holding is not None else None
        held = reason.as_dict() if reason is not None else None
        changed = (held is None) != (self._held is None) or (
            held is not None and self._held is not None and held["code"] != self._held["code"])
        refresh = held is not None and self._hold_noted is not None and now - self._hold_noted >= self.ttl / 3
        if changed or refresh:
            await self.db.arun(lambda s: holds.record(s, self.worker_id, held, now))
            self._held, self._hold_noted = held, now
        return held is not None

    async def _end_orphans(self, dialogs: list[dict[str, Any]]) -> None:
        """SIP dialogs of calls whose worker died: the runner ends them (BYE from the stored state)."""
        if dialogs and self.on_ended_dialogs is not None:
            try:
                await self.on_ended_dialogs(dialogs)
            except Exception:
                log.exception("ending %d orphaned call(s) failed", len(dialogs))

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

    async def _tick_campaign(self, camp: Campaign, now: datetime, room: int, share: float) -> list[Claim]:
        try:
            window = CallingWindow.parse(camp.window_start, camp.window_end, camp.timezone)
            policy = RetryPolicy.from_json(camp.retry_policy)
            script = await asyncio.to_thread(self.scripts.for_campaign, camp)
            recordings = await asyncio.to_thread(self._recordings, script)
        except Exception as exc:  # a bad campaign must not stop the others
            await self._pause(camp, f"cannot run: {exc}")
            return []
        if not window.allows(now):
            return []
        cap = self._start_budget()
        if cap == 0:
            self._paced = True
            return []
        claims = await self.db.arun(lambda s: ops.claim_due(s, camp.id, room, self.worker_id, self.clock, self.ttl,
                                                            share, cap))
        if cap is not None and len(claims) == cap:
            self._paced = True
        if share < 1 and claims and len(claims) < room:
            # got a batch (a share of the free lines): more may be free; only a round that got fewer
            # people than it asked for is certain to have taken everything due
            self._full_batch = True
        if not claims:
            if not any(True for c in self._live_claims if c.campaign_id == camp.id):
                left = await self.db.arun(lambda s: ops.remaining(s, camp.id), write=False)
                if left == 0:
                    await self._set_status(camp, CampaignStatus.DONE, "all people settled")
            return []
        ids = [c.attempt_id for c in claims]
        await self.db.arun(lambda s: ops.mark_dialling(s, ids, self.clock()))
        for c in claims:
            self._live_claims.append(c)
            task = asyncio.create_task(self._call(c, script, policy, recordings, self._start_delay()))
            self.live[c.attempt_id] = task
            task.add_done_callback(lambda _t, c=c: self._release(c))
        return claims

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

    def _release(self, claim: Claim) -> None:
        """A call task ended (even one cancelled before it ran): free its line."""
        self.live.pop(claim.attempt_id, None)
        if claim in self._live_claims:
            self._live_claims.remove(claim)
        self._wake.set()

    # ------------------------------------------------------------ one call
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
                if self.holding is not None and self.holding() is not None:  # no headroom now: dialled later
                    self.held_back += 1
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

    # ------------------------------------------------------------ campaign state
    async def _set_status(self, camp: Campaign, status: str, why: str) -> None:
        def write(s: Any) -> None:
            c = s.get(Campaign, camp.id)
            if c is not None and c.status == CampaignStatus.RUNNING:
                c.status = status
                s.add(c)
                s.add(AuditEvent(actor="dialer", action=f"campaign.{status}", target_type="campaign",
                                 target_id=str(camp.id), source=self.worker_id, detail=why))

        await self.db.arun(write)
        log.info("campaign %s -> %s (%s)", camp.id, status, why)

    async def _pause(self, camp: Campaign, why: str) -> None:
        log.error("campaign %s paused: %s", camp.id, why)
        await self._set_status(camp, CampaignStatus.PAUSED, why[:400])


__all__ = ["Dialer", "default_worker_id"]
