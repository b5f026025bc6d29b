"""The dialer under admission control (a real database, a fake runner and clock): while the worker
holds new calls nobody is claimed or dialled, a call waiting for its start slot when the hold begins
is put back (never dropped), and the same person is dialled once the headroom returns. Each hold is
an audit row that `veribot campaigns status` reads and says in Chinese."""

from __future__ import annotations

import asyncio

from campaign_fakes import Clock, ScriptedRunner, add_campaign, answered, settle
from sqlmodel import select

from bot.campaigns.dialing import holds
from bot.campaigns.dialing.dialer import Dialer
from bot.console.i18n import translations
from bot.pipeline.headroom import Reason
from storage.models import Attempt, AuditEvent, Person


class Hold:
    """The worker's Headroom.holding, switched by the test."""

    def __init__(self) -> None:
        self.reason: Reason | None = None

    def __call__(self) -> Reason | None:
        return self.reason


def person(db, phone):
    return db.run(lambda s: s.exec(select(Person).where(Person.phone == phone)).one(), write=False)


async def test_the_dialer_holds_while_the_worker_has_no_headroom_and_dials_the_same_person_later(db):
    clock, hold = Clock(), Hold()
    add_campaign(db, people=[("+8613800000001", 1)])
    runner = ScriptedRunner()
    dialer = Dialer(db, runner, worker_id="w1", clock=clock, holding=hold)
    hold.reason = Reason("loop_lag", 120, 60)
    assert await dialer.tick() == [] and await dialer.tick() == []
    assert runner.requests == [] and person(db, "+8613800000001").state == "pending"
    events = db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == holds.HOLDING)).all(), write=False)
    assert len(events) == 1 and events[0].source == "w1"  # one row per hold, not one per round
    now = clock.now
    [held] = db.run(lambda s: holds.current(s, now, dialer.ttl), write=False)
    assert held.worker == "w1" and held.reason == {"code": "loop_lag", "value": 120, "limit": 60}
    text = held.text(translations("zh-CN").gettext)
    assert "w1" in text and "120" in text and "60" in text and "暂停" in text  # said in Chinese

    hold.reason = None  # headroom back
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    assert [r.phone for r in runner.requests] == ["+8613800000001"]
    assert person(db, "+8613800000001").state == "completed"
    assert db.run(lambda s: holds.current(s, clock.now, dialer.ttl), write=False) == []  # resumed


async def test_a_call_waiting_for_its_start_slot_when_the_hold_begins_is_put_back_and_dialled_later(db):
    clock, hold = Clock(), Hold()
    add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 2)])
    runner = ScriptedRunner()
    dialer = Dialer(db, runner, worker_id="w1", clock=clock, holding=hold, start_rate=20.0)
    claimed = await dialer.tick()
    assert len(claimed) == 2  # the second waits 1/20 s for its start slot
    for _ in range(50):  # the first call starts at once
        if runner.requests:
            break
        await asyncio.sleep(0.001)
    hold.reason = Reason("queue_wait", 800, 400)  # the worker runs short meanwhile
    await settle(dialer)
    assert [r.phone for r in runner.requests] == ["+8613800000001"]
    assert dialer.held_back == 1
    second = person(db, "+8613800000002")
    assert (second.state, second.attempt_count) == ("pending", 0)  # not dropped, the attempt cost nothing
    detail = db.run(lambda s: s.exec(select(Attempt.detail).where(Attempt.person_id == second.id)).one(), write=False)
    assert "held new calls" in detail

    hold.reason = None
    clock.advance(1)
    await asyncio.sleep(0.06)  # its start slot
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    assert [r.phone for r in runner.requests] == ["+8613800000001", "+8613800000002"]
    assert person(db, "+8613800000002").state == "completed"


class HeadroomClock:
    """The headroom's clock; the start gate's sleep advances it (no real waiting)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


async def test_the_dialer_honours_the_headroom_start_ramp_5_a_second_then_1_a_second_near_a_limit(db):
    """One rule for every new call (bot/pipeline/headroom_gate.py): the dialer's claimed calls are
    dialled no faster than the worker's Headroom lets calls start, and a hold that begins while
    they wait puts the rest back, as a hold before their start slot does."""
    from bot.pipeline.headroom import Headroom
    from bot.pipeline.headroom_gate import StartGate
    from bot.settings import WorkerSettings

    t = HeadroomClock()
    headroom = Headroom(WorkerSettings(window_seconds=1000), clock=t)
    add_campaign(db, people=[(f"+86138000000{i:02d}", i) for i in range(6)], concurrency=6)
    started = []

    def dialled(_request):
        started.append(t.t)
        if len(started) == 3:  # three calls started with headroom to spare, then a sign nears its limit:
            headroom.note_lag(40, t.t)  # 40 ms >= near (0.5) x lag_stop_ms 60: starts ramp to 1 a second
        if len(started) == 5:
            headroom.note_lag(90, t.t)  # over the stop level: the worker holds
            headroom.check(t.t)
        return answered()

    runner = ScriptedRunner(dialled)
    dialer = Dialer(db, runner, worker_id="w1", clock=Clock(), holding=headroom.holding,
                    starts=StartGate(headroom, sleep=t.sleep))
    assert len(await dialer.tick()) == 6
    await settle(dialer)
    gaps = [round(b - a, 2) for a, b in zip(started, started[1:], strict=False)]
    assert gaps == [0.2, 0.2, 1.0, 1.0], gaps  # 1/starts_per_second, then 1/ramp_per_second
    assert dialer.held_back == 1  # the sixth waited in line when the hold began: its person is pending again
    assert sorted(p.state for p in [person(db, f"+86138000000{i:02d}") for i in range(6)]).count("pending") == 1
