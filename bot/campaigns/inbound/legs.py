"""Inbound SIP legs kept in storage, so that no caller's leg outlives the worker that answered it.

    legs = InboundLegs(db, worker_id)
    leg = await legs.hold(call.sip_dialog)   # when the call is answered
    legs.release(leg)                                  # when it ends (a queued write)
    dialogs = await legs.orphans(stale_after=660)      # at the start of a worker: end these (BYE)

An outbound call's dialog lives on its attempt (`Attempt.sip_dialog`); an inbound call has no
attempt until its caller is verified and matched, and an unknown caller never has one, so every
inbound call gets an `InboundLeg` row for its whole life (a matched call has its dialog on the
attempt as well, for the attempt's own recovery).

`orphans` takes, in one transaction, what dead predecessors of this worker left: the legs and the
active attempts of this worker id (an earlier run) and of dead processes of this host (the default
worker id is host:pid), with `bot.campaigns.dialing.claims.recover` — the dialer's own recovery — and legs
of any worker older than the longest possible call. Their dialogs (one per Call-ID) are returned
for the caller to end with `SipCallRunner.end_orphans`, the one BYE path for both directions.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.dialer import _dead_local_process  # the dialer's test of "dead": one definition
from storage.db import Database
from storage.models import InboundLeg, utcnow

log = logging.getLogger(__name__)


class InboundLegs:
    def __init__(self, db: Database, worker_id: str, clock: Any = utcnow) -> None:
        self.db = db
        self.worker_id = worker_id
        self.clock = clock

    async def hold(self, dialog: dict[str, Any]) -> int | None:
        """Store an answered inbound call's dialog; its row id, or None when storage refused
        (logged: the call goes on, only its BYE after a crash is lost)."""
        if not dialog:
            return None
        row = InboundLeg(worker=self.worker_id, started_at=self.clock(), sip_dialog=dialog)

        def unit(s: Session) -> int | None:
            s.add(row)
            s.flush()
            return row.id

        try:
            return await self.db.arun(unit)
        except Exception as exc:  # disk full, database down: the caller is still served
            log.error("inbound leg not stored (no BYE for it if this worker dies): %s", type(exc).__name__)
            return None

    def release(self, leg_id: int | None) -> None:
        """Forget a leg that ended here. Queued behind the call's other writes, never awaited, so
        a call task being cancelled cannot skip it."""
        if leg_id is None:
            return
        fut = self.db.submit(lambda s: s.execute(delete(InboundLeg).where(InboundLeg.id == leg_id)))
        fut.add_done_callback(lambda f: f.exception() is not None and log.error(
            "inbound leg %s not cleared: %s (a restarted worker may send it a needless BYE)",
            leg_id, type(f.exception()).__name__))

    async def orphans(self, stale_after: float, own: bool = True) -> list[dict[str, Any]]:
        """Dialogs of calls whose worker is gone, removed from storage (see the module text).
        `own=False` (a running worker's sweep): not this worker id's, which are its live calls."""
        now = self.clock()
        dialogs = await self.db.arun(lambda s: take_orphans(s, now, self.worker_id, stale_after, own=own))
        if dialogs:
            log.warning("%d call(s) left by a worker that is gone: ending them", len(dialogs))
        return dialogs


def take_orphans(s: Session, now: datetime, worker_id: str, stale_after: float,
                 is_dead: Any = _dead_local_process, own: bool = True) -> list[dict[str, Any]]:
    """In one transaction: recover the attempts of dead predecessors (their dialogs collected),
    delete their legs and legs older than `stale_after` seconds; one dialog per Call-ID.
    `own`: `worker_id`'s too (at its start: an earlier run's)."""
    workers = set(s.exec(select(InboundLeg.worker).distinct()).all()) | set(ops.active_workers(s))
    gone = sorted(w for w in workers if (own and w == worker_id) or (w != worker_id and is_dead(w)))
    dialogs: list[dict[str, Any]] = []
    for worker in gone:
        ops.recover(s, now, worker=worker, dialogs=dialogs)
    stale = col(InboundLeg.started_at) < now - timedelta(seconds=stale_after)
    q = select(InboundLeg).where(col(InboundLeg.worker).in_(gone) | stale)
    if s.get_bind().dialect.name == "postgresql":  # workers sweeping at once: each leg ended by one of them
        q = q.with_for_update(skip_locked=True)
    legs = s.exec(q).all()
    dialogs += [leg.sip_dialog for leg in legs]
    if legs:
        s.execute(delete(InboundLeg).where(col(InboundLeg.id).in_([leg.id for leg in legs])))
    unique: dict[str, dict[str, Any]] = {}
    for d in dialogs:
        unique.setdefault(str(d.get("call_id")), d)
    return list(unique.values())
