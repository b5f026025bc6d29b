"""The dialer against a real database (SQLite and PostgreSQL) with fake runners and a fake clock."""

from __future__ import annotations

import asyncio

import pytest
from campaign_fakes import Clock, ScriptedRunner, TextRunner, add_campaign, answered, settle
from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing.dialer import Dialer
from bot.dialog.events import Utterance
from storage.models import Attempt, Campaign, DoNotCall, Escalation, Person, Result, Turn


def people(db, cid):
    return {p.phone: p for p in db.run(lambda s: s.exec(select(Person).where(Person.campaign_id == cid)).all())}


async def test_priority_order_close_contacts_first(db):
    add_campaign(db, concurrency=1, people=[("+8613800000001", 5), ("+8613800000002", 1), ("+8613800000003", 2)])
    runner = ScriptedRunner()
    dialer = Dialer(db, runner, worker_id="w1", clock=Clock())
    for _ in range(4):
        await dialer.tick()
        await settle(dialer)
    assert [r.phone for r in runner.requests] == ["+8613800000002", "+8613800000003", "+8613800000001"]


async def test_no_calls_outside_the_window(db):
    clock = Clock()
    clock.advance(11 * 3600)  # 21:00 in Shanghai
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    runner = ScriptedRunner()
    dialer = Dialer(db, runner, worker_id="w1", clock=clock)
    assert await dialer.tick() == []
    clock.advance(11 * 3600)  # 08:00 next day
    assert await dialer.tick() == []
    clock.advance(3600)  # 09:00
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    assert people(db, cid)["+8613800000001"].state == "completed"


async def test_retry_delays_and_max_attempts(db):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)],
                       retry_policy={"no_answer": {"delays": [600, 1200], "max_attempts": 3}})
    runner = ScriptedRunner(lambda r: CallResult(NetworkOutcome.NO_ANSWER, sip_status=480))
    dialer = Dialer(db, runner, worker_id="w1", clock=clock)
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    p = people(db, cid)["+8613800000001"]
    assert (p.state, p.attempt_count, p.next_attempt_at) == ("pending", 1, clock.now + __import__("datetime").timedelta(seconds=600))
    clock.advance(599)
    assert await dialer.tick() == []
    clock.advance(1)
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    clock.advance(1199)
    assert await dialer.tick() == []
    clock.advance(1)
    assert len(await dialer.tick()) == 1
    await settle(dialer)
    p = people(db, cid)["+8613800000001"]
    assert (p.state, p.attempt_count, p.last_outcome) == ("failed", 3, "no_answer")
    clock.advance(86400)
    assert await dialer.tick() == []
    assert len(runner.requests) == 3


async def test_retry_after_from_a_503_is_honoured(db):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    runner = ScriptedRunner(lambda r: CallResult(NetworkOutcome.CONGESTION, sip_status=503, retry_after=5000))
    dialer = Dialer(db, runner, worker_id="w1", clock=clock)
    await dialer.tick()
    await settle(dialer)
    p = people(db, cid)["+8613800000001"]
    assert (p.next_attempt_at - clock.now).total_seconds() == 5000
    att = db.run(lambda s: s.exec(select(Attempt)).one())
    assert (att.state, att.outcome, att.sip_status, att.retry_after) == ("ended", "congestion", 503, 5000)


async def test_concurrency_limit_and_do_not_call(db):
    cid = add_campaign(db, concurrency=2, people=[(f"+861380000000{i}", 1) for i in range(1, 6)])
    db.run(lambda s: s.add(DoNotCall(phone="+8613800000001")))
    runner = ScriptedRunner()
    runner.gate = asyncio.Event()
    dialer = Dialer(db, runner, worker_id="w1", clock=Clock())
    first = await dialer.tick()
    assert [c.phone for c in first] == ["+8613800000002", "+8613800000003"]
    assert await dialer.tick() == []  # both lines busy
    runner.gate.set()
    await settle(dialer)
    for _ in range(3):
        await dialer.tick()
        await settle(dialer)
    ps = people(db, cid)
    assert ps["+8613800000001"].state == "do_not_call"
    assert "+8613800000001" not in [r.phone for r in runner.requests]
    assert len(runner.requests) == 4
    assert db.run(lambda s: s.get(Campaign, cid)).status == "done"


async def test_results_turns_and_escalation_are_stored(db):
    def decide(req):
        return answered("escalated" if req.phone.endswith("2") else "completed")

    cid = add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 1)])
    dialer = Dialer(db, ScriptedRunner(decide), worker_id="w1", clock=Clock())
    await dialer.tick()
    await settle(dialer)
    ps = people(db, cid)
    assert ps["+8613800000001"].state == "completed"
    assert ps["+8613800000002"].state == "escalated"
    results = db.run(lambda s: s.exec(select(Result)).all())
    assert sorted((r.person_id, r.slot, r.value) for r in results) == sorted(
        (p.id, slot, v) for p in ps.values() for slot, v in {"identity": "yes", "health_code": "green"}.items())
    assert len(db.run(lambda s: s.exec(select(Turn)).all())) == 4
    esc = db.run(lambda s: s.exec(select(Escalation)).one())
    assert (esc.person_id, esc.reason, esc.status) == (ps["+8613800000002"].id, "requested_human", "open")


async def test_a_dropped_call_resumes_with_the_answers_given(db):
    phone = "+8613800000001"
    cid = add_campaign(db, people=[(phone, 1)], dialog_path="dialogs/verification.zh-CN.yaml")
    runner = TextRunner({phone: ["是", "兰州市城关区张掖路1号", "<hangup>"]})
    clock = Clock()
    dialer = Dialer(db, runner, worker_id="w1", clock=clock, variables={"agency": "测试", "callback_number": "1"})
    await dialer.tick()
    await settle(dialer)
    p = people(db, cid)[phone]
    assert (p.state, p.last_outcome) == ("pending", "hung_up")
    first_slots = {r.slot: r.value for r in db.run(lambda s: s.exec(select(Result)).all())}
    assert first_slots["identity"] == "yes" and "residence" in first_slots
    clock.advance(3600)
    runner.answers[phone] = ["是", "绿码", "没有", "3次", "阴性", "好的"]
    await dialer.tick()
    await settle(dialer)
    assert runner.requests[1].prefilled_slots["residence"] == first_slots["residence"]
    bot_turns = db.run(lambda s: s.exec(select(Turn).where(Turn.speaker == "bot").order_by(Turn.id)).all())
    by_attempt = {}
    for t in bot_turns:
        by_attempt.setdefault(t.attempt_id, []).append(t.text)
    first, second = (by_attempt[k] for k in sorted(by_attempt))
    residence_q = "请问您现在实际居住在哪里"
    identity_q = "请问您是测试0本人吗"
    assert any(residence_q in t for t in first) and not any(residence_q in t for t in second)
    assert any(identity_q in t for t in first) and not any(identity_q in t for t in second)  # stored "yes"
    assert any("测试0您好，刚才的通话中断了" in t for t in second)  # the resume line instead
    assert any("健康码" in t for t in second)
    assert people(db, cid)[phone].state == "completed"


async def test_claims_of_a_dead_worker_are_recovered_with_a_cool_down(db):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 1)], concurrency=2)
    stuck = ScriptedRunner()
    stuck.gate = asyncio.Event()  # its calls never end: the worker is gone
    dead = Dialer(db, stuck, worker_id="dead", clock=clock, claim_ttl=60)
    assert len(await dead.tick()) == 2
    other = Dialer(db, ScriptedRunner(), worker_id="other", clock=clock, claim_ttl=60)
    assert await other.tick() == []  # claims still valid: nobody is called twice
    clock.advance(61)
    assert await other.tick() == []  # claims expired -> interrupted, but cool-down first
    assert {a.state for a in db.run(lambda s: s.exec(select(Attempt)).all())} == {"interrupted"}
    assert all(p.state == "pending" for p in people(db, cid).values())
    clock.advance(900)
    assert len(await other.tick()) == 2
    await settle(other)
    for t in dead.live.values():
        t.cancel()
    await settle(dead)
    assert {p.state for p in people(db, cid).values()} == {"completed"}


@pytest.fixture
def dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


async def test_attempts_of_a_dead_local_process_are_recovered_at_start(db, dead_pid):
    import socket

    gone = f"{socket.gethostname()}:{dead_pid}"
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    dead = Dialer(db, ScriptedRunner(), worker_id=gone, clock=clock)
    dead.runner.gate = asyncio.Event()
    await dead.tick()  # dialling, then the process "dies"
    fresh = Dialer(db, ScriptedRunner(), clock=clock)  # default id: this host, this pid
    assert await fresh.tick() == []  # recovered at once (no claim expiry wait), then the cool-down
    att = db.run(lambda s: s.exec(select(Attempt)).one())
    assert (att.state, att.outcome) == ("interrupted", "interrupted")
    assert people(db, cid)["+8613800000001"].state == "pending"
    for t in list(dead.live.values()):
        t.cancel()


async def test_a_cancelled_dialer_records_live_calls_as_interrupted(db):
    cid = add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 1)])
    runner = ScriptedRunner()
    runner.gate = asyncio.Event()
    dialer = Dialer(db, runner, worker_id="w", clock=Clock(), poll_seconds=0.01)
    task = asyncio.create_task(dialer.run(asyncio.Event()))
    for _ in range(1000):
        if len(runner.requests) == 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    atts = db.run(lambda s: s.exec(select(Attempt)).all())
    assert {(a.state, a.outcome) for a in atts} == {("interrupted", "interrupted")}
    assert {p.state for p in people(db, cid).values()} == {"pending"}


@pytest.mark.parametrize(("network", "sip", "state", "delay"), [
    (NetworkOutcome.BUSY, 486, "pending", 600),
    (NetworkOutcome.NO_ANSWER, 480, "pending", 1800),
    (NetworkOutcome.NO_ANSWER, 408, "pending", 1800),
    (NetworkOutcome.DECLINED, 603, "pending", 14400),
    (NetworkOutcome.CONGESTION, 503, "pending", 300),
    (NetworkOutcome.BAD_NUMBER, 404, "failed", None),
    (NetworkOutcome.FAILED, None, "pending", 300),
])
async def test_network_outcomes_are_recorded_and_rescheduled(db, network, sip, state, delay):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    dialer = Dialer(db, ScriptedRunner(lambda r: CallResult(network, sip_status=sip)), worker_id="w", clock=clock)
    await dialer.tick()
    await settle(dialer)
    att = db.run(lambda s: s.exec(select(Attempt)).one())
    assert (att.state, att.outcome, att.network_outcome, att.sip_status) == ("ended", str(network), str(network), sip)
    p = people(db, cid)["+8613800000001"]
    assert p.state == state
    if delay is None:
        assert p.next_attempt_at is None
    else:
        assert (p.next_attempt_at - clock.now).total_seconds() == delay


async def test_a_runner_that_crashes_fails_the_attempt_not_the_dialer(db):
    def boom(_req):
        raise RuntimeError("transport exploded")

    cid = add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 2)], concurrency=1)
    clock = Clock()
    runner = ScriptedRunner(boom)
    dialer = Dialer(db, runner, worker_id="w", clock=clock)
    await dialer.tick()
    await settle(dialer)
    runner.decide = lambda r: answered()
    await dialer.tick()
    await settle(dialer)
    ps = people(db, cid)
    assert ps["+8613800000001"].last_outcome == "failed" and ps["+8613800000001"].state == "pending"
    assert ps["+8613800000002"].state == "completed"


async def test_calls_understand_answers_with_the_configured_area_and_store_them_when_heard(sqlite_db, tmp_path):
    """build_dialer binds [nlu] default area into the calls' parser (no ./config.toml read), and
    each accepted answer is a result while the call is still going on."""
    from bot.campaigns.background import build_dialer
    from bot.config import load_config

    db = sqlite_db
    cfg = tmp_path / "config.toml"
    cfg.write_text('[nlu]\ndefault_province = "西藏自治区"\ndefault_city = "拉萨市"\n', encoding="utf-8")
    add_campaign(db, people=[("+8613800000001", 1)])
    seen_mid_call = {}

    class Runner(TextRunner):
        async def run(self, request):
            session = request.session()
            session.start()
            for answer in ["是 的", "城关区 北京 中路"]:
                session.feed(Utterance(answer))
            await asyncio.wrap_future(db.submit(lambda s: None))  # the writes queued so far are applied
            seen_mid_call.update(db.run(lambda s: {r.slot: r.value for r in s.exec(select(Result)).all()},
                                        write=False))
            return CallResult(NetworkOutcome.ANSWERED, record=session.close(), sip_status=200)

    dialer = build_dialer(load_config(cfg), Runner({}), db)
    dialer.clock = Clock()
    await dialer.tick()
    await settle(dialer)
    assert seen_mid_call["identity"] == "yes" and seen_mid_call["residence"]["city"] == "拉萨市"



class StampingRunner(ScriptedRunner):
    """Notes the event-loop time each call starts dialling."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[float] = []

    async def run(self, request):
        self.started.append(asyncio.get_running_loop().time())
        return await super().run(request)


async def test_start_rate_paces_the_calls_a_worker_starts(db):
    """With 20 free lines and start_rate 20/s the calls start one every 50 ms (never two at once),
    rather than all in one round: lines started together run in step and answer in one burst."""
    add_campaign(db, concurrency=20, people=[(f"+86138000{i:05d}", 1) for i in range(20)])
    runner = StampingRunner()
    runner.gate = asyncio.Event()
    dialer = Dialer(db, runner, worker_id="w", clock=Clock(), poll_seconds=0.2, start_rate=20)
    stop = asyncio.Event()
    task = asyncio.create_task(dialer.run(stop))
    for _ in range(500):
        if len(runner.started) == 20:
            break
        await asyncio.sleep(0.01)
    runner.gate.set()
    stop.set()
    await task
    assert len(runner.started) == 20  # every line was used
    gaps = [b - a for a, b in zip(runner.started, runner.started[1:], strict=False)]
    # one start slot per 1/rate s: a slot's timer may fire late, which shortens the gap to the next
    # (on-time) slot, but the starts never run ahead of the rate
    assert sum(gaps) / len(gaps) >= 0.05 - 0.002, gaps
    assert min(gaps) >= 0.05 - 0.02, gaps


async def test_start_rate_bounds_a_round_and_zero_means_no_limit(db):
    add_campaign(db, concurrency=30, people=[(f"+86138000{i:05d}", 1) for i in range(30)])
    runner = ScriptedRunner()
    runner.gate = asyncio.Event()
    paced = Dialer(db, runner, worker_id="w1", clock=Clock(), poll_seconds=1.0, start_rate=4)
    assert len(await paced.tick()) == 4  # one poll interval's worth of start slots
    assert await paced.tick() == []  # those slots are booked: nothing more this interval
    free = Dialer(db, runner, worker_id="w2", clock=Clock(), start_rate=0)
    assert len(await free.tick()) == 26  # no limit: every free line at once
    runner.gate.set()
    await settle(paced)
    await settle(free)
    with pytest.raises(ValueError, match="start_rate"):
        Dialer(db, runner, start_rate=-1)


def test_start_rate_setting_is_checked():
    from bot.settings import DialerSettings

    assert DialerSettings().start_rate == 5.0
    with pytest.raises(ValueError, match=r"\[dialer\] start_rate"):
        DialerSettings(start_rate=-1)
