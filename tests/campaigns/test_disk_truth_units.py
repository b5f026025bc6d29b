"""The pieces of "a live call hears the truth when storage fails", without a network: the session
ends at its next event with the words it is given; the watcher promises a call back only when the
callback case is durable; the recorder says when it is (committed, or fsynced to the spool file)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallRequest
from bot.campaigns.dialing import claims as ops
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.dialog.events import Dtmf, End, Escalate, HangUp, NoInput, Say, Turn
from bot.dialog.script import load_script
from bot.telephony.calls import storage_fault
from storage.models import Escalation
from tests.campaigns.campaign_fakes import Clock, add_campaign

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"


class Guard:
    def __init__(self, durable: bool) -> None:
        self.durable, self.failing, self.kept = durable, False, []

    def storage_failing(self) -> bool:
        return self.failing

    async def keep_callback(self, reason, step, detail) -> bool:
        self.kept.append((reason, step))
        return self.durable


def request(locale: str, notes: list) -> storage_fault.HeldRequest:
    script = load_script(DIALOGS / f"verification.{locale}.yaml")
    req = CallRequest(1, "+8613800000001", {"name": "Li Lei"}, script, observers=(notes.append,),
                      variables={"agency": "X", "callback_number": "1"})
    return storage_fault.held(req)


async def fail_during_the_first_question(locale: str, durable: bool):
    notes: list = []
    req = request(locale, notes)
    guard = Guard(durable)
    session = req.session()
    session.start()  # the greeting and the first question are playing
    watcher = asyncio.create_task(storage_fault.watch_storage(guard, req, poll=0.01))
    guard.failing = True
    assert await asyncio.wait_for(watcher, 5) is True
    assert not session.finished  # the question playing is finished first
    return session, guard, notes


@pytest.mark.parametrize("locale", ["zh-CN", "en-US", "ko-KR"])
async def test_a_durable_callback_case_is_promised_in_the_scripts_language(locale):
    session, guard, notes = await fail_during_the_first_question(locale, durable=True)
    actions = session.feed(Dtmf("1"))  # the caller's answer: heard, kept, not parsed
    say = storage_fault.words(locale, durable=True)
    assert [type(a) for a in actions] == [Say, Escalate, End] and actions[0].text == say
    assert guard.kept == [("storage_fault", "identity")]
    rec = session.close()
    assert rec.outcome == "escalated" and rec.escalation.reason == "storage_fault"
    assert [(t.speaker, t.text, t.kind) for t in rec.transcript[-2:]] == [("caller", "1", "dtmf"), ("bot", say, "prompt")]
    assert "identity" not in {k for k, v in rec.slots.items() if v is not None}  # not taken as an answer
    assert session.feed(Dtmf("1")) == [] and session.finished
    told = [n for n in notes if isinstance(n, (Turn, Escalate))][-3:]
    assert [type(n) for n in told] == [Turn, Turn, Escalate]  # the recorder is handed all of it


@pytest.mark.parametrize("locale", ["zh-CN", "en-US", "ko-KR"])
async def test_no_call_back_is_promised_when_the_case_is_not_durable(locale):
    session, _guard, _notes = await fail_during_the_first_question(locale, durable=False)
    actions = session.feed(NoInput())  # silence: no reprompt, the truth
    assert actions[0].text == storage_fault.words(locale, durable=False)
    assert storage_fault.words(locale, True) != storage_fault.words(locale, False)
    assert "回电" not in actions[0].text and "call you back" not in actions[0].text and "전화드리" not in actions[0].text


async def test_a_hang_up_meanwhile_ends_the_call_as_usual():
    session, guard, _notes = await fail_during_the_first_question("zh-CN", durable=True)
    assert session.feed(HangUp()) == [] or session.finished
    assert session.close().outcome == "hung_up" and guard.kept  # the case is in the queue anyway


async def test_a_dialog_that_ended_is_not_told_anything():
    notes: list = []
    req = request("zh-CN", notes)
    guard = Guard(True)
    session = req.session()
    session.start()
    session.close()
    guard.failing = True
    assert await asyncio.wait_for(storage_fault.watch_storage(guard, req, poll=0.01), 5) is False
    assert guard.kept == []


def test_the_attempt_is_its_requests_observer_and_guard(sqlite_db):
    claim = _claim(sqlite_db)
    rec = CallAttempt(sqlite_db, claim)
    req = rec.request({})
    assert req.guard is rec and req.observers == (rec.record,) and req.prefilled_slots == claim.prefilled
    assert CallRequest(1, "x", {}, None, observers=(print,)).guard is None


async def test_the_recorder_says_when_the_callback_case_is_durable(sqlite_db, tmp_path, monkeypatch):
    claim = _claim(sqlite_db)
    rec = CallAttempt(sqlite_db, claim, spool=EscalationSpool(tmp_path / "spool"))
    assert await rec.keep_callback("storage_fault", "identity", "x") is True  # committed
    assert [e.reason for e in sqlite_db.run(lambda s: s.exec(select(Escalation)).all(), write=False)] == ["storage_fault"]

    def refuse(fn):
        from concurrent.futures import Future
        fut: Future = Future()
        fut.set_exception(OperationalError("INSERT", {}, Exception("database or disk is full")))
        return fut

    monkeypatch.setattr(sqlite_db, "submit", refuse)
    assert not rec.storage_failing()
    on_disk = CallAttempt(sqlite_db, claim, spool=EscalationSpool(tmp_path / "spool2"))
    assert await on_disk.keep_callback("storage_fault", "identity", "x") is True  # fsynced to the file
    assert on_disk.storage_failing() and not on_disk.spool.alarm.ok  # the worker's alarm is raised
    in_memory = CallAttempt(sqlite_db, claim, spool=EscalationSpool())
    assert await in_memory.keep_callback("storage_fault", "identity", "x") is False  # a restart loses it
    unwritable = EscalationSpool(tmp_path / "no-such-dir" / "spool")
    assert await CallAttempt(sqlite_db, claim, spool=unwritable).keep_callback("storage_fault", "i", "x") is False
    assert len(unwritable) == 1  # still retried from memory
    process = EscalationSpool(tmp_path / "process.spool")  # the worker's: the dialer's and the callbacks'
    assert await CallAttempt(sqlite_db, claim, spool=process).keep_callback("storage_fault", "i", "x") is True
    assert len(process) == 1
    assert await CallAttempt(sqlite_db, claim).keep_callback("storage_fault", "i", "x") is False  # no spool


def _claim(db):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    db.run(lambda s: ops.mark_dialling(s, [claim.attempt_id], clock()))
    return claim
