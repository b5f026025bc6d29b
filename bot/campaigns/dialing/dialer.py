"""The dialer: claims due people of running campaigns and runs their calls through a CallRunner.

One `tick()` does one round: heartbeat + recovery, then for each running campaign inside its
calling window, claim what its concurrency (and this worker's `max_calls`) allows — the claim is
committed before anything is dialled — mark those attempts dialling, and start one task per call
(`CallSteps`, one_call.py: its start slot under `start_rate`, the runner, the final record).
`run(stop)` ticks until `stop` is set, then lets live calls finish (up to `drain_seconds`).

Several workers on one database share a campaign by free capacity: in `run`, a round claims only
`claim_share` (half) of the campaign's free lines that this worker has room for, at least one; after a
round that got all it asked for, the worker pauses a random 0.5–1.5 poll intervals before the next,
and after one of its calls ends it waits a random 0–1 poll interval before claiming again — so the
other workers, polling meanwhile, get their turn instead of the fastest one taking every line.

Admission control: while `holding()` (the worker's Headroom, bot/pipeline/headroom.py) says the worker
has no headroom for one more call, no round claims anyone (nor dials a claimed call, one_call.py: it
also waits for `starts`, the headroom's start ramp). Each hold and its end is an audit row
(bot.campaigns.dialing.holds) for `veribot campaigns status` and the console.

Time comes from `clock` (aware UTC), so windows and retry delays are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from bot.calls import CallRunner
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing import holds
from bot.campaigns.dialing.claims import Claim
from bot.campaigns.dialing.one_call import CallSteps
from bot.campaigns.dialing.policy import CallingWindow, RetryPolicy
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.engine import Parser
from storage.db import Database
from storage.models import AuditEvent, Campaign, CampaignStatus, utcnow

log = logging.getLogger(__name__)


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


class Dialer(CallSteps):
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
        on_final: Callable[[Claim, str], None] | None = None,  # each person's final outcome
        poll_seconds: float = 1.0,
        drain_seconds: float = 120.0,
        claim_share: float = 0.5,
        outbox: bool = False,
        parser: Parser | None = None,
        spool: EscalationSpool | None = None,
        suppression_days: float = 30.0,
        start_rate: float = 0.0,
        live_variables: Callable[[], dict[str, str]] | None = None,
        holding: Callable[[], Any] | None = None, starts: Any = None,
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
        self.holding, self.starts = holding, starts  # the worker's Headroom.holding (a Reason while no call may start), StartGate
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
