"""A call in progress when the disk fills hears the truth. The answers of a call are not spooled
(only escalations are), so the call does not go on asking: the dialer's call to a resident (real
SIP/RTP on loopback, the shipped zh-CN dialog, answers by keypad) is cut by a full disk (SQLite
on a 4 MB tmpfs); the prompt playing is finished, then the resident hears "系统出现故障，您的回答暂时
无法保存。工作人员将尽快给您回电", the call ends, and the callback case (spooled on another
filesystem) is in the operator's queue when space returns, with the apology in the transcript."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from sqlmodel import select

from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.telephony.calls import storage_fault
from bot.telephony.calls.sip_runner import SipCallRunner
from bot.telephony.calls.softphone import Resident, Softphone, parse_answers
from storage.db import Database
from storage.models import Attempt, Campaign, Escalation, Person, Result, Turn
from tests.campaigns.campaign_fakes import add_campaign
from tests.reliability.smallfs import fill

pytestmark = [pytest.mark.sip, pytest.mark.slow]
PROMISE = storage_fault.words("zh-CN", durable=True)


async def until(cond, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def rows(db, model, *where):
    return db.run(lambda s: s.exec(select(model).where(*where)).all(), write=False)


async def test_a_call_in_progress_hears_the_truth_and_its_callback_case_survives_the_full_disk(
        small_fs, tmp_path, make_endpoint, caplog):
    caplog.set_level(logging.WARNING)
    db = Database(f"sqlite:///{small_fs / 'veribot.db'}")
    db.upgrade()
    with db.engine.connect() as conn:  # an empty journal: every write needs new space
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    add_campaign(db, concurrency=1, window_start="00:00", window_end="00:00", people=[("+8613800000001", 1)])
    phone_ep = await make_endpoint()
    phone = Softphone(phone_ep, Resident(parse_answers(["dtmf:1"] * 12), "zh-CN", prompt_gap=0.6))
    bot = await make_endpoint(trunk=f"sip:127.0.0.1:{phone_ep.local_addr[1]}")
    spool = EscalationSpool(tmp_path / "escalations.spool")  # another filesystem than the database
    dialer = Dialer(db, SipCallRunner(bot), spool=spool, poll_seconds=0.1, claim_ttl=3600,
                    variables={"agency": "兰州市公安局", "callback_number": "96110"})
    stop = asyncio.Event()
    task = asyncio.create_task(dialer.run(stop))
    try:
        await until(lambda: rows(db, Result, Result.slot == "identity"))  # the first answer is stored
        attempt = next(iter(dialer.live))
        fill(small_fs)  # the disk fills during the call
        await until(lambda: phone.finished.is_set())  # the bot ended the call
        heard = phone.calls[0]
        assert heard.end_reason == "remote_bye" and heard.answers[-1] != "<hangup>"  # the bot hung up, not the resident
        assert any("ALARM storage" in r.getMessage() for r in caplog.records)
        assert any(f"attempt {attempt}: storage failed during the call" in r.getMessage() for r in caplog.records)
        assert len(spool) == 1 or rows(db, Escalation)  # durable before the promise: spooled (or committed)
        assert not spool.alarm.ok or len(spool) == 1 or dialer._unfinished
        os.remove(small_fs / "filler")  # space returns: no restart
        await until(lambda: spool.alarm.ok and not len(spool) and not dialer._unfinished)
        await until(lambda: rows(db, Campaign)[0].status == "done")
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        db.dispose()
    [case] = rows(db, Escalation)
    assert (case.attempt_id, case.reason, case.status) == (attempt, "storage_fault", "open")
    att = db.run(lambda s: s.get(Attempt, attempt), write=False)
    assert (att.state, att.outcome, att.escalation_reason) == ("ended", "escalated", "storage_fault")
    assert att.detail != "transferred"
    assert [p.state for p in rows(db, Person)] == ["escalated"]
    turns = rows(db, Turn, Turn.attempt_id == attempt)
    prompts = [t.text for t in sorted(turns, key=lambda t: t.seq) if t.kind == "prompt"]
    assert prompts[-1] == PROMISE  # the last thing the bot said: the truth, with the promise it can keep
    assert "请问您现在实际居住在哪里？请说到区县、街道和小区。" in prompts  # the question playing was finished first
    assert prompts.count(PROMISE) == 1 and len(prompts) == len(set(prompts))  # nothing asked after it
    assert (tmp_path / "escalations.spool").read_text() == ""
    assert any("storage alarm cleared" in r.getMessage() for r in caplog.records)
