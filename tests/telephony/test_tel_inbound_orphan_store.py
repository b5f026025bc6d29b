"""Inbound legs in storage (issue 12): an answered call's dialog is stored while it lasts and
cleared when it ends here; a matched call's dialog goes on its attempt as well; at a worker's
start exactly its dead predecessors' calls (and legs older than any call) are taken to be ended,
each once. The kill -9 of a real worker is in test_tel_inbound_orphan.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sip_peers import REPO
from sqlmodel import select

from bot.calls import Answered
from bot.campaigns.inbound.legs import InboundLegs, take_orphans
from bot.telephony.calls.worker_endpoint import InboundMatch, end_predecessors_calls, inbound_handler
from bot.telephony.settings import TelephonySettings
from storage.models import Attempt, AttemptState, Campaign, InboundLeg, Person, PersonState, utcnow

SCRIPT = REPO / "dialogs" / "verification.en-US.yaml"
AGENCY = {"agency": "City Police", "callback_number": "96110", "caller_id": "96110"}


def _legs(db) -> list[InboundLeg]:
    return db.run(lambda s: s.exec(select(InboundLeg)).all(), write=False)


async def _call_in(make_endpoint, handler, *, seen_during) -> None:
    """A phone calls the bot and hangs up once `seen_during()` (polled) is true; waits for the
    bot's handler to finish."""
    finished = asyncio.Event()

    async def inbound(call) -> None:
        try:
            await handler(call)
        finally:
            finished.set()

    bot = await make_endpoint(inbound, trusted_sources=("127.0.0.1",))
    phone = await make_endpoint()
    out = await phone.dial(f"sip:96110@127.0.0.1:{bot.local_addr[1]}", caller_id="13800000001")
    assert out.call is not None
    for _ in range(200):
        if seen_during():
            break
        await asyncio.sleep(0.05)
    out.call.hangup()
    await asyncio.wait_for(finished.wait(), 15)


async def test_an_unknown_callers_leg_is_stored_while_it_lasts_and_cleared_when_it_ends(make_endpoint, sqlite_db):
    db, during = sqlite_db, []
    legs = InboundLegs(db, "worker-a")

    async def asked_for_a_code(call, number) -> bool:
        await call.ended.wait()  # the caller hangs up while asked for a code
        return False

    def stored() -> bool:
        during[:] = _legs(db)
        return bool(during)

    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY, lookup=lambda n: None,
                              verify=asked_for_a_code, legs=legs)
    await _call_in(make_endpoint, handler, seen_during=stored)
    (leg,) = during
    assert leg.worker == "worker-a"
    dialog = leg.sip_dialog
    assert dialog["local_tag"] and dialog["remote_tag"] and dialog["remote_target"].startswith("sip:")
    assert dialog["remote_addr"][0] == "127.0.0.1" and dialog["route_set"] == []
    for _ in range(50):  # the delete is a queued write
        if not _legs(db):
            break
        await asyncio.sleep(0.02)
    assert _legs(db) == []


async def test_a_matched_callers_dialog_goes_on_the_attempt_too(make_endpoint, sqlite_db):
    db, notes = sqlite_db, []
    legs = InboundLegs(db, "worker-a")
    match = InboundMatch({"name": "Li Lei"}, attempt_id=7, observers=(notes.append,))
    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY, lookup=lambda n: match,
                              verify=lambda call, number: True, legs=legs)
    during: list[InboundLeg] = []

    def answered() -> bool:
        during[:] = _legs(db)
        return any(isinstance(n, Answered) for n in notes)

    await _call_in(make_endpoint, handler, seen_during=answered)
    (note,) = [n for n in notes if isinstance(n, Answered)]
    (leg,) = during
    assert note.sip_dialog == leg.sip_dialog  # what the recorder stores on the attempt
    await asyncio.sleep(0.2)
    assert _legs(db) == []


def _dialog(call_id: str) -> dict:
    return {"call_id": call_id, "local_tag": "a", "remote_tag": "b", "local_uri": "sip:96110@x",
            "remote_uri": "sip:caller@y", "remote_target": "sip:caller@y", "route_set": [], "local_cseq": 0,
            "remote_addr": ["127.0.0.1", 5060]}


def test_only_dead_predecessors_and_overdue_legs_are_taken_each_call_once(db):
    now = utcnow()

    def seed(s):
        camp = Campaign(name="c", status="paused", concurrency=1)
        s.add(camp)
        s.flush()
        person = Person(campaign_id=camp.id, name="Li Lei", phone="+8613800000001", state=PersonState.IN_PROGRESS,
                        attempt_count=1)
        s.add(person)
        s.flush()
        s.add(Attempt(person_id=person.id, campaign_id=camp.id, phone=person.phone, state=AttemptState.IN_CALL,
                      claimed_by="host:dead", claimed_at=now, claim_expires_at=now + timedelta(hours=1),
                      started_at=now, detail="inbound callback", sip_dialog=_dialog("matched")))
        s.add(InboundLeg(worker="host:dead", started_at=now, sip_dialog=_dialog("matched")))
        s.add(InboundLeg(worker="host:dead", started_at=now, sip_dialog=_dialog("stranger")))
        s.add(InboundLeg(worker="me", started_at=now, sip_dialog=_dialog("my-earlier-run")))
        s.add(InboundLeg(worker="host:alive", started_at=now, sip_dialog=_dialog("live")))
        s.add(InboundLeg(worker="elsewhere:1", started_at=now - timedelta(hours=2), sip_dialog=_dialog("overdue")))

    db.run(seed)
    taken = db.run(lambda s: take_orphans(s, now, "me", 3600, is_dead=lambda w: w == "host:dead"))
    assert sorted(d["call_id"] for d in taken) == ["matched", "my-earlier-run", "overdue", "stranger"]
    assert [leg.sip_dialog["call_id"] for leg in _legs(db)] == ["live"]
    att = db.run(lambda s: s.exec(select(Attempt)).one(), write=False)
    assert (att.state, att.sip_dialog) == (AttemptState.INTERRUPTED, None)
    assert db.run(lambda s: take_orphans(s, now, "me", 3600, is_dead=lambda w: w == "host:dead")) == []


def test_a_running_workers_sweep_takes_dead_siblings_calls_never_its_own(db):
    now = utcnow()

    def seed(s):
        camp = Campaign(name="c", status="running", concurrency=2)
        s.add(camp)
        s.flush()
        for n, worker in enumerate(["host:dead", "me"]):  # a dialled call each, answered
            person = Person(campaign_id=camp.id, name="Li Lei", phone=f"+861380000000{n}",
                            state=PersonState.IN_PROGRESS, attempt_count=1)
            s.add(person)
            s.flush()
            s.add(Attempt(person_id=person.id, campaign_id=camp.id, phone=person.phone, state=AttemptState.IN_CALL,
                          claimed_by=worker, claimed_at=now, claim_expires_at=now + timedelta(hours=1),
                          started_at=now, sip_dialog=_dialog(f"dialled-by-{worker}")))
        s.add_all([InboundLeg(worker="host:dead", started_at=now, sip_dialog=_dialog("dead-sibling")),
                   InboundLeg(worker="me", started_at=now, sip_dialog=_dialog("mine-live")),
                   InboundLeg(worker="host:alive", started_at=now, sip_dialog=_dialog("live"))])

    db.run(seed)
    dead = {"host:dead", "me"}  # `me` only looks dead (a test's is_dead): its own calls are still never taken
    taken = db.run(lambda s: take_orphans(s, now, "me", 3600, is_dead=dead.__contains__, own=False))
    assert sorted(d["call_id"] for d in taken) == ["dead-sibling", "dialled-by-host:dead"]
    assert sorted(leg.sip_dialog["call_id"] for leg in _legs(db)) == ["live", "mine-live"]
    atts = {a.claimed_by or a.sip_dialog["call_id"]: a for a in db.run(lambda s: s.exec(select(Attempt)).all(),
                                                                        write=False)}
    assert atts["me"].state == AttemptState.IN_CALL and atts["me"].sip_dialog is not None
    assert [a.state for k, a in atts.items() if k != "me"] == [AttemptState.INTERRUPTED]


async def test_a_worker_starts_even_when_storage_refuses_the_lookup(make_endpoint, caplog):
    class Refusing:
        async def orphans(self, stale_after: float, own: bool = True) -> list:
            raise OSError("disk I/O error")

    bot = await make_endpoint()
    await end_predecessors_calls(bot, Refusing())  # type: ignore[arg-type]
    assert "calls left by a dead worker not looked up" in caplog.text
