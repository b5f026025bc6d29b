"""The call recorder alone: answers are results while the call goes on, a changed answer replaces
the stored one, and the end of the call (record + the person settled) is one commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.dialog.events import CallRecord, Outcome, SlotFilled, Speaker, Turn
from storage.models import Attempt, Person, Result
from storage.models import Turn as TurnRow


def _claim(db, clock):
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    return db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]


def _results(db, attempt_id):
    return db.run(lambda s: {r.slot: r.value for r in s.exec(select(Result).where(Result.attempt_id == attempt_id))},
                  write=False)


async def _applied(db):
    await asyncio.wrap_future(db.submit(lambda s: None))  # everything queued before is committed


async def test_answers_are_results_when_heard_and_a_changed_answer_replaces_the_stored_one(db):
    clock = Clock()
    claim = _claim(db, clock)
    rec = CallAttempt(db, claim, clock=clock)
    rec.dialog_version = "v7"
    rec.record(SlotFilled("identity", "yes", "identity"))
    rec.record(Turn(Speaker.CALLER, "是", step="identity"))
    rec.record(SlotFilled("nat_count", 1, "nat_count"))
    await _applied(db)
    assert _results(db, claim.attempt_id) == {"identity": "yes", "nat_count": 1}  # the call is still going on
    assert db.run(lambda s: s.get(Attempt, claim.attempt_id), write=False).state == "in_call"
    rec.record(SlotFilled("nat_count", 2, "nat_count"))  # "不对，是两次"
    await _applied(db)
    assert _results(db, claim.attempt_id)["nat_count"] == 2

    record = CallRecord("verification", "v7", "zh-CN", outcome=Outcome.COMPLETED,
                        slots={"identity": "yes", "nat_count": 2, "health_code": "green"},
                        transcript=[Turn(Speaker.CALLER, "是", step="identity"), Turn(Speaker.BOT, "再见")])
    outcome = await rec.settle(CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200), RetryPolicy())
    assert outcome == "completed"
    rows = db.run(lambda s: s.exec(select(Result).where(Result.attempt_id == claim.attempt_id)).all(), write=False)
    assert {r.slot: r.value for r in rows} == {"identity": "yes", "nat_count": 2, "health_code": "green"}
    assert {r.dialog_version for r in rows} == {"v7"} and len(rows) == 3
    turns = db.run(lambda s: s.exec(select(TurnRow).where(TurnRow.attempt_id == claim.attempt_id)).all(), write=False)
    assert [t.seq for t in turns] == [1, 2]  # the turn seen live, then the one only the record had
    person = db.run(lambda s: s.get(Person, claim.person_id), write=False)
    assert person.state == "completed"  # settled in the same unit of work as the record


async def test_a_played_prompt_gives_its_turn_the_line_time_and_the_audio(db, tmp_path):
    """Evidence of the notice: the line's play time (not when the dialog queued it) and the
    exact audio kept by the pipeline land on the bot's turn; the call code is on the claim."""
    from bot.dialog.events import PromptPlayed

    clock = Clock()
    claim = _claim(db, clock)
    assert claim.call_code and len(claim.call_code) == 6 and claim.call_code.isdigit()
    rec = CallAttempt(db, claim, clock=clock)
    notice = "请您即日起居家隔离。"
    rec.record(Turn(Speaker.BOT, notice, step="notice", kind="prompt"))
    rec.record(Turn(Speaker.CALLER, "好的", step="notice", at=31.5))
    wav = tmp_path / "bot-01-notice.wav"
    wav.write_bytes(b"RIFF....")
    rec.record(PromptPlayed(notice, "notice", 27.04, 30.9, True, str(wav), "ab" * 32))
    rec.record(PromptPlayed("not said on this call", None, 40.0, 41.0))  # no such turn: ignored
    await _applied(db)
    rows = db.run(lambda s: s.exec(select(TurnRow).where(TurnRow.attempt_id == claim.attempt_id)
                                   .order_by(TurnRow.seq)).all(), write=False)
    bot, caller = rows
    assert (bot.line_at, bot.audio_path) == (27.04, str(wav))
    assert bot.parse == {"played": {"from": 27.04, "to": 30.9, "complete": True, "sha256": "ab" * 32}}
    assert caller.line_at == 31.5  # heard at 31.5 s on the line
