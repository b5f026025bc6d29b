"""Capacity that protects the campaign (issue 24 item 5), over real SIP on loopback: inbound
calls from the trunk hold at most their share of the worker's lines (`[telephony]
inbound_share`, half by default), so outbound calls still ring while the trunk floods in; and
a call the worker refuses to place because its own lines are full (503 "worker at capacity")
costs the resident nothing: the dialer does not claim people for lines it lacks, and one
refused in a race is put back with the attempt count unchanged. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from raw_sip import RawSip
from sqlmodel import select

from bot.campaigns.dialing.dialer import Dialer
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.sip.call import SipCall
from storage.models import Attempt, Campaign, CampaignStatus, Person

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the calling window
PHONE = "+8613800000001"


async def _hold(call: SipCall) -> None:
    await call.ended.wait()


async def _trunk_calls(make_endpoint, bot, n: int) -> list[int | None]:
    """`n` calls into the bot from its trusted trunk (127.0.0.2); their final statuses."""
    trunk = await make_endpoint(listen=("127.0.0.2", 0))
    outs = await asyncio.gather(*(trunk.dial(f"sip:96110@127.0.0.1:{bot.local_addr[1]}") for _ in range(n)))
    return sorted(o.status or 0 for o in outs)


async def test_the_trunk_fills_only_its_share_and_outbound_calls_still_ring(make_endpoint) -> None:
    bot = await make_endpoint(_hold, capacity=4, trusted_sources=("127.0.0.2",))
    assert await _trunk_calls(make_endpoint, bot, 4) == [200, 200, 503, 503]
    probe = RawSip("127.0.0.2")
    try:
        cid, _ = probe.request("OPTIONS", bot.local_addr)
        await probe.wait_for(lambda: probe.statuses(cid, "OPTIONS"))
        statuses = probe.statuses(cid, "OPTIONS")
    finally:
        probe.close()
    assert statuses == [503]  # Kamailio's health check sends the next inbound call to another worker
    callee = await make_endpoint(_hold, listen=("127.0.0.3", 0))
    out = await bot.dial(f"sip:13800000001@127.0.0.3:{callee.local_addr[1]}")
    assert out.status == 200 and out.call is not None  # the campaign's line rang and was answered
    out.call.hangup()


def _seed(db) -> None:
    def write(s):
        c = Campaign(name="c1", status=CampaignStatus.RUNNING, concurrency=4)
        s.add(c)
        s.flush()
        s.add(Person(campaign_id=c.id, name="李雷", phone=PHONE, priority=1))

    db.run(write)


def _person(db) -> Person:
    return db.run(lambda s: s.exec(select(Person)).one(), write=False)


class _Racing:
    """The dialer's view when the lines filled between its claim and the dial: no line count."""

    def __init__(self, runner: SipCallRunner) -> None:
        self.run = runner.run


async def test_a_call_refused_by_our_own_capacity_costs_the_resident_no_attempt(make_endpoint, db) -> None:
    _seed(db)
    bot = await make_endpoint(_hold, capacity=2, inbound_share=1.0, trusted_sources=("127.0.0.2",), retry_after=30)
    assert await _trunk_calls(make_endpoint, bot, 2) == [200, 200]  # every line is inbound
    runner = SipCallRunner(bot)
    dialer = Dialer(db, runner, worker_id="w1", clock=lambda: T0)
    assert await dialer.tick() == []  # no line for it: nobody is claimed
    p = _person(db)
    assert (p.state, p.attempt_count, p.last_outcome) == ("pending", 0, None)

    racing = Dialer(db, _Racing(runner), worker_id="w2", clock=lambda: T0)
    assert len(await racing.tick()) == 1
    for task in list(racing.live.values()):
        await asyncio.wait_for(task, 10)
    p = _person(db)
    assert (p.state, p.attempt_count, p.last_outcome) == ("pending", 0, None)
    assert p.next_attempt_at == T0 + timedelta(seconds=30)  # tried again when a line may be free
    att = db.run(lambda s: s.exec(select(Attempt)).one(), write=False)
    assert (att.state, att.network_outcome, att.sip_status) == ("interrupted", None, None)
    assert "lines were full" in att.detail


def test_the_inbound_share_is_checked() -> None:
    import pytest

    from bot.telephony.settings import TelephonySettings

    assert TelephonySettings().inbound_lines == 25
    with pytest.raises(ValueError, match="inbound_share"):
        TelephonySettings(inbound_share=0)
