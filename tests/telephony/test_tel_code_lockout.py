"""The callback-code lockout under attack (issue 24 item 4): keyed on the E.164 number however
the caller ID spells it, kept in the database (shared by workers, kept across a restart), a
burst of simultaneous guesses counted before any is checked, and the code's guessing budget
enforced per number (hour, day) and per code over its validity. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select
from test_tel_call_codes import AGENCY, CODE, _seed

from bot.campaigns.inbound.call_codes import GuessBudget
from bot.campaigns.inbound.callbacks import Callbacks
from storage.models import CodeGuess, InboundCall, Person, utcnow
from tests.campaigns.campaign_fakes import KeyingCall

SPELLINGS = ("+8613800000001", "8613800000001", "138-0000-0001", "008613800000001", "(138)0000-0001",
             "+86 138 0000 0001")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


def _verifier(db, clock, said: list[str]):
    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    return Callbacks(db, clock=clock).verifier(AGENCY, "zh-CN", speak=speak, timeout=1)


def _outcomes(db) -> list[str]:
    return db.run(lambda s: [r.outcome for r in s.exec(select(InboundCall).order_by(InboundCall.id)).all()],
                  write=False)


async def test_a_locked_number_is_locked_in_every_spelling_and_for_every_worker(db) -> None:
    _seed(db)
    clock, said = Clock(), []
    verify = _verifier(db, clock, said)
    for _ in range(3):
        assert (await verify(KeyingCall("111111"), "13800000001")).proved is False
    # another worker (or this one restarted): the lock is in the database, keyed on +8613800000001
    other = _verifier(db, clock, said)
    for spelling in SPELLINGS:
        assert (await other(KeyingCall(CODE + "#"), spelling)).proved is False, spelling
        assert "核验失败次数过多" in said[-1]
    assert _outcomes(db) == ["wrong_code"] * 3 + ["locked"] * len(SPELLINGS)
    person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
    assert person.attempt_count == 1 and person.state == "pending"  # nobody proved, nothing changed
    clock.now += timedelta(hours=1, seconds=1)  # the hour's budget comes back
    assert (await other(KeyingCall(CODE + "#"), "(138)0000-0001")).proved is True


async def test_a_burst_of_simultaneous_guesses_is_counted_before_any_is_checked(db) -> None:
    _seed(db)
    clock, said = Clock(), []
    verify = _verifier(db, clock, said)
    results = await asyncio.gather(*(verify(KeyingCall(f"{i:06d}"), SPELLINGS[i % 6]) for i in range(20)))
    assert not any(results)
    outcomes = _outcomes(db)
    assert outcomes.count("wrong_code") == 3 and outcomes.count("locked") == 17


async def test_a_right_code_is_not_counted_and_the_budget_is_per_day_and_per_code(db) -> None:
    _seed(db)
    clock, said = Clock(), []
    verify = _verifier(db, clock, said)
    for _ in range(5):
        assert (await verify(KeyingCall(CODE + "#"), "13800000001")).proved is True  # right codes cost nothing
    assert db.run(lambda s: s.exec(select(CodeGuess)).all(), write=False) == []
    wrong = 0
    for _ in range(8):  # 3 an hour, but 10 a day
        for _ in range(3):
            if (await verify(KeyingCall("111111"), "+8613800000001")).proved is False and said[-1].startswith("您输入的"):
                wrong += 1
        clock.now += timedelta(hours=1, minutes=1)
    assert wrong == 10
    # the code given yesterday (valid 14 days) has a budget of 20 wrong guesses in all
    for _ in range(4):
        clock.now += timedelta(days=1, minutes=1)
        for _ in range(3):
            if (await verify(KeyingCall("111111"), "+8613800000001")).proved is False and said[-1].startswith("您输入的"):
                wrong += 1
            clock.now += timedelta(hours=1, minutes=1)
    assert wrong == 20
    assert (await verify(KeyingCall(CODE + "#"), "+8613800000001")).proved is False  # the code is spent
    assert "核验失败次数过多" in said[-1]


async def test_the_budget_is_configurable(db) -> None:
    _seed(db)
    said: list[str] = []

    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    verify = Callbacks(db, guess_budget=GuessBudget(per_hour=1)).verifier(AGENCY, "zh-CN", speak=speak, timeout=1)
    assert (await verify(KeyingCall("111111"), "13800000001")).proved is False
    assert (await verify(KeyingCall(CODE), "008613800000001")).proved is False and "核验失败次数过多" in said[-1]
