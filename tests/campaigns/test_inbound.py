"""Callbacks to the official number: matched to the person by number, recorded like a dialled call."""

from __future__ import annotations

import dataclasses

from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.inbound.callbacks import Callbacks
from bot.dialog.events import Turn as DialogTurn
from bot.dialog.script import load_script
from bot.nlu import make_parser
from bot.simulate import run_text
from storage.models import Attempt, AttemptState, Person, PersonState, Result, Turn

PHONE = "+8613800000001"


async def test_a_callback_is_matched_claimed_recorded_and_settled(db):
    add_campaign(db, people=[(PHONE, 1)])
    parser = make_parser("甘肃省", "兰州市")
    callbacks = Callbacks(db, clock=Clock(), parser=parser)
    match = await callbacks.lookup("138 0000 0001")  # as the caller id arrives, without +86
    assert match is not None and match.person["name"] == "测试0" and match.prefilled_slots == {}
    assert match.parser is parser  # the [nlu] area reaches the callback's call
    att = db.run(lambda s: s.get(Attempt, match.attempt_id), write=False)
    assert att.state == AttemptState.IN_CALL and att.detail == "inbound callback"
    assert await callbacks.lookup(PHONE) is None  # already in a call: no second attempt

    script = load_script("dialogs/verification.zh-CN.yaml")

    def observe(note):
        if isinstance(note, DialogTurn) and note.speaker == "caller" and note.step == "identity":
            note = dataclasses.replace(note, audio="var/calls/7/01-identity.wav")  # as the speech pipeline has it
        for o in match.observers:
            o(note)

    conv = run_text(script, match.person, ["是 的", "城关区 白银 路", "绿 码", "没有", "两 次", "阴性", "好的"],
                    observers=[observe])

    class Request:
        attempt_id = match.attempt_id

    await callbacks.on_result(Request(), CallResult(NetworkOutcome.ANSWERED, record=conv.record, sip_status=200,
                                                    audio_dir="var/calls/7"))
    person = db.run(lambda s: s.exec(select(Person).where(Person.phone == PHONE)).one(), write=False)
    assert person.state == PersonState.COMPLETED and person.attempt_count == 1
    turns = db.run(lambda s: s.exec(select(Turn).where(Turn.attempt_id == match.attempt_id)).all(), write=False)
    assert len(turns) == len(conv.record.transcript)
    assert [t.audio_path for t in turns if t.audio_path] == ["var/calls/7/01-identity.wav"]  # the clip, for the operator
    assert db.run(lambda s: s.get(Attempt, match.attempt_id), write=False).audio_dir == "var/calls/7"
    slots = db.run(lambda s: {r.slot: r.value for r in s.exec(select(Result)).all()}, write=False)
    assert slots["health_code"] == "green" and slots["nat_count"] == 2
    assert await callbacks.lookup(PHONE) is None  # done: greeted, not asked again


async def test_unknown_and_malformed_numbers_are_not_matched(db):
    add_campaign(db, people=[(PHONE, 1)])
    callbacks = Callbacks(db, clock=Clock())
    assert await callbacks.lookup("+8613999999999") is None
    assert await callbacks.lookup("anonymous") is None


async def test_a_failed_call_still_settles_the_attempt(db):
    add_campaign(db, people=[(PHONE, 1)])
    callbacks = Callbacks(db, clock=Clock())
    match = await callbacks.lookup(PHONE)

    class Request:
        attempt_id = match.attempt_id

    await callbacks.on_result(Request(), CallResult(NetworkOutcome.FAILED, detail="inbound call failed"))
    att = db.run(lambda s: s.get(Attempt, match.attempt_id), write=False)
    assert att.state == AttemptState.ENDED and att.outcome == "failed"
    person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
    assert person.state == PersonState.PENDING  # the dialer will call them again
