"""Disk full under a running dialer (a SQLite database on a 4 MB tmpfs, filled mid-call): the
escalation the resident was promised is kept (spool file on another filesystem) and reaches the
operator's queue when space returns; the storage alarm is raised in the log and for the console;
no new call is taken while the disk is full; the dialer recovers without a restart (the final
record of the call cut by the full disk is written, the campaign goes on to its end)."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.outage.storage_alarm import StorageHealth
from bot.dialog.events import CallRecord, Escalate, EscalationReason, Outcome, Speaker, Turn
from storage.db import Database
from storage.models import Attempt, Campaign, Escalation, Person
from tests.campaigns.campaign_fakes import add_campaign
from tests.reliability.smallfs import fill

pytestmark = pytest.mark.slow


class Escalating:
    """Each call escalates (the dialog promises a call back); the first one waits for `go`."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.started = 0

    async def run(self, request):
        self.started += 1
        if self.started == 1:
            await self.go.wait()
        esc = Escalate(EscalationReason.UNRESOLVED, "residence", "2 no-input")
        turn = Turn(Speaker.CALLER, "…", step="residence")
        for note in (turn, esc):
            for observe in request.observers:
                observe(note)
        rec = CallRecord("verification", "v1", "zh-CN", outcome=Outcome.ESCALATED, slots={}, transcript=[turn])
        rec.escalation = esc
        return CallResult(NetworkOutcome.ANSWERED, record=rec, sip_status=200)


async def until(cond, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_disk_full_keeps_the_escalation_raises_the_alarm_takes_no_calls_and_recovers(small_fs, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    db = Database(f"sqlite:///{small_fs / 'veribot.db'}")
    db.upgrade()
    with db.engine.connect() as conn:  # an empty journal: every write needs new space
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    add_campaign(db, concurrency=1, window_start="00:00", window_end="00:00",
                 people=[("+8613800000001", 1), ("+8613800000002", 2), ("+8613800000003", 3)])
    runner = Escalating()
    spool = EscalationSpool(tmp_path / "escalations.spool")  # another filesystem than the database
    dialer = Dialer(db, runner, spool=spool, poll_seconds=0.05, claim_ttl=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(dialer.run(stop))
    try:
        await until(lambda: runner.started == 1)
        first = next(iter(dialer.live))
        fill(small_fs)  # the disk fills during the first call
        runner.go.set()
        await until(lambda: not spool.alarm.ok)
        status = spool.alarm.as_dict()
        assert status["ok"] is False and "database or disk is full" in status["error"] and status["since"]
        assert any("ALARM storage" in r.getMessage() for r in caplog.records)
        # the spool logs from the database's writer thread, just after the alarm: wait for it
        await until(lambda: any(f"escalation of attempt {first} kept in the spool" in r.getMessage()
                                for r in caplog.records))
        for _ in range(30):  # while the disk is full: the escalation is in the spool or (a small write
            # still fitting the database's journal) already in the queue; no new call is taken
            await asyncio.sleep(0.05)
            queued = db.run(lambda s: s.exec(select(Escalation.attempt_id)).all(), write=False)
            assert len(spool) == 1 or queued == [first]
            assert runner.started == 1 and not spool.alarm.ok
        os.remove(small_fs / "filler")  # space returns: no restart
        await until(lambda: spool.alarm.ok and not len(spool))
        await until(lambda: db.run(lambda s: s.exec(select(Campaign)).one(), write=False).status == "done")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        db.dispose()
    escalations = db.run(lambda s: s.exec(select(Escalation)).all(), write=False)
    assert sorted(e.attempt_id for e in escalations) == sorted(set(e.attempt_id for e in escalations))
    assert first in {e.attempt_id for e in escalations} and len(escalations) == 3
    att = db.run(lambda s: s.get(Attempt, first), write=False)
    assert (att.state, att.outcome) == ("ended", "escalated")
    assert {p.state for p in db.run(lambda s: s.exec(select(Person)).all(), write=False)} == {"escalated"}
    assert (tmp_path / "escalations.spool").read_text() == ""
    assert any("storage alarm cleared" in r.getMessage() for r in caplog.records)


def test_the_spool_survives_a_restart_and_replays_once(tmp_path, sqlite_db):
    from storage.models import utcnow

    add_campaign(sqlite_db, people=[("+8613800000001", 1)])

    def attempt(s):
        a = Attempt(person_id=1, campaign_id=1, phone="+8613800000001", state="in_call")
        s.add(a)
        s.flush()
        return a.id

    aid = sqlite_db.run(attempt)
    row = {"attempt_id": aid, "person_id": 1, "campaign_id": 1, "reason": "unresolved", "step": "residence",
           "detail": "", "priority": 1, "created_at": utcnow()}
    EscalationSpool(tmp_path / "s").keep(row)
    again = EscalationSpool(tmp_path / "s")  # a restarted worker finds it
    assert len(again) == 1 and again.alarm.spooled == 1
    again.keep(row)  # the same escalation twice is one
    assert again.replay(sqlite_db) == 1 and len(again) == 0
    assert EscalationSpool(tmp_path / "s").replay(sqlite_db) == 0
    esc = sqlite_db.run(lambda s: s.exec(select(Escalation)).all(), write=False)
    assert [(e.attempt_id, e.reason, e.created_at) for e in esc] == [(aid, "unresolved", row["created_at"])]


async def test_inbound_calls_get_503_while_the_storage_alarm_is_raised(tmp_path):
    from bot.telephony.settings import TelephonySettings
    from bot.telephony.sip.endpoint import SipEndpoint

    async def inbound(call):
        await call.ended.wait()

    def endpoint(**kw):
        return SipEndpoint(TelephonySettings(listen=("127.0.0.1", 0), rtp_ports=(38600, 38798),
                                             inbound_sources=("127.0.0.0/8",), **kw), on_inbound=inbound)

    bot, phone = endpoint(), endpoint()
    alarm = StorageHealth()
    bot.accepting = lambda: alarm.ok  # as `veribot serve` wires it (the worker spool's alarm)
    await bot.start()
    await phone.start()
    try:
        target = f"sip:bot@127.0.0.1:{bot.local_addr[1]}"
        alarm.failed(OSError("database or disk is full"))
        refused = await phone.dial(target)
        assert refused.call is None and refused.status == 503
        alarm.recovered()
        taken = await phone.dial(target)
        assert taken.call is not None
        taken.call.hangup()
    finally:
        alarm.recovered()
        await phone.stop()
        await bot.stop()
