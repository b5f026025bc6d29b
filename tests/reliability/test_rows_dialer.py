"""RELIABILITY.md rows about the dialer that had no test of their own, on SQLite and
PostgreSQL: every terminal path of a call gives its line back within a second, and a script
published while calls are live leaves those calls on the version they started with."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlmodel import select

from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.script import load_script_text
from bot.simulate import parse_answer
from storage.models import Attempt, DialogVersion, Person, Result
from tests.campaigns.campaign_fakes import ANSWER_TO, Clock, add_campaign, answered, settle

ROOT = Path(__file__).resolve().parents[2]
ZH = ROOT / "dialogs" / "verification.zh-CN.yaml"

# phone -> what its call ends with (a CallResult, or an exception the runner raises)
ENDINGS: dict[str, CallResult | Exception] = {
    "+8613800000001": CallResult(NetworkOutcome.BUSY, sip_status=486),
    "+8613800000002": CallResult(NetworkOutcome.NO_ANSWER, sip_status=480),
    "+8613800000003": CallResult(NetworkOutcome.NO_ANSWER, sip_status=408),
    "+8613800000004": CallResult(NetworkOutcome.DECLINED, sip_status=603),
    "+8613800000005": CallResult(NetworkOutcome.CONGESTION, sip_status=503, retry_after=120),
    "+8613800000006": CallResult(NetworkOutcome.BAD_NUMBER, sip_status=404),
    "+8613800000007": RuntimeError("transport exploded"),
    "+8613800000008": answered(),
}
EXPECTED = {"+8613800000001": "busy", "+8613800000002": "no_answer", "+8613800000003": "no_answer",
            "+8613800000004": "declined", "+8613800000005": "congestion", "+8613800000006": "bad_number",
            "+8613800000007": "failed", "+8613800000008": "completed"}


async def _until(predicate, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


class EndingRunner:
    def __init__(self) -> None:
        self.returned_at: dict[str, float] = {}

    async def run(self, request):
        await asyncio.sleep(0.05)
        ending = ENDINGS[request.phone]
        self.returned_at[request.phone] = time.monotonic()
        if isinstance(ending, Exception):
            raise ending
        return ending


async def test_every_terminal_path_frees_the_line_within_a_second(db):
    cid = add_campaign(db, concurrency=1, people=[(p, i) for i, p in enumerate(ENDINGS)])
    runner = EndingRunner()
    dialer = Dialer(db, runner, worker_id="w", clock=Clock())
    dialled: list[str] = []
    for _ in ENDINGS:
        claims = await dialer.tick()
        assert len(claims) == 1, "the single line was not free for the next person"
        phone = claims[0].phone
        dialled.append(phone)
        assert await dialer.tick() == []  # the line is taken while the call runs
        await _until(lambda phone=phone: phone in runner.returned_at)
        await _until(lambda: not dialer.live)
        freed = time.monotonic() - runner.returned_at[phone]
        assert freed < 1.0, f"{EXPECTED[phone]}: line freed {freed:.2f} s after the call ended"
    assert sorted(dialled) == sorted(ENDINGS)
    atts = db.run(lambda s: {a.phone: a for a in s.exec(select(Attempt)).all()}, write=False)
    assert {p: a.outcome for p, a in atts.items()} == EXPECTED
    assert all(a.state == "ended" for a in atts.values())
    people = db.run(lambda s: {p.phone: p for p in s.exec(select(Person).where(Person.campaign_id == cid)).all()},
                    write=False)
    assert people["+8613800000005"].next_attempt_at is not None  # retried, after its Retry-After
    assert people["+8613800000006"].state == "failed" and people["+8613800000008"].state == "completed"


def _publish(db, marker: str, deactivate: str | None = None) -> str:
    """Publish the zh-CN script with the residence question changed to carry `marker`."""
    text = ZH.read_text(encoding="utf-8").replace("请问您现在实际居住在哪里？", f"{marker}请问您现在实际居住在哪里？", 1)
    script = load_script_text(text, "verification")

    def write(s):
        if deactivate is not None:
            for old in s.exec(select(DialogVersion).where(DialogVersion.version == deactivate)).all():
                old.active = False
                s.add(old)
        s.add(DialogVersion(name=script.name, locale=script.locale, version=script.version, yaml_text=text,
                            active=True))

    db.run(write)
    return script.version


class GatedTalker:
    """Answers through the real dialog session; the first call waits at `gate` after the greeting."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.requests = []
        self.records = {}

    async def run(self, request):
        self.requests.append(request)
        session = request.session()
        session.start()
        if len(self.requests) == 1:
            self.waiting.set()
            await self.gate.wait()
        while not session.finished:
            listen = session.current_listen
            for event in parse_answer(ANSWER_TO.get(listen.step, "<silence>") if listen else "<hangup>"):
                session.feed(event)
        record = session.close()
        self.records[request.phone] = record
        return CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200)


async def test_a_script_published_during_a_live_call_leaves_it_on_its_version(db):
    v1 = _publish(db, "【一】")
    add_campaign(db, concurrency=1, dialog_name="verification", dialog_path=str(ZH),
                 people=[("+8613800000001", 1), ("+8613800000002", 2)])
    runner = GatedTalker()
    dialer = Dialer(db, runner, worker_id="w", clock=Clock(), scripts=ScriptSource(db, ROOT))
    assert len(await dialer.tick()) == 1
    await asyncio.wait_for(runner.waiting.wait(), 10)
    v2 = _publish(db, "【二】", deactivate=v1)  # published while the first call is live
    assert v2 != v1
    runner.gate.set()
    await settle(dialer)
    assert len(await dialer.tick()) == 1  # the second person: after the publication
    await settle(dialer)
    first, second = (runner.records[p] for p in ("+8613800000001", "+8613800000002"))
    said_first = " ".join(t.text for t in first.transcript if t.speaker == "bot")
    said_second = " ".join(t.text for t in second.transcript if t.speaker == "bot")
    assert "【一】" in said_first and "【二】" not in said_first  # the live call finished on its version
    assert "【二】" in said_second
    atts = db.run(lambda s: {a.phone: a.dialog_version for a in s.exec(select(Attempt)).all()}, write=False)
    assert atts == {"+8613800000001": v1, "+8613800000002": v2}  # each call records the version it ran
    results = db.run(lambda s: {(r.attempt_id, r.dialog_version) for r in s.exec(select(Result)).all()}, write=False)
    by_attempt = db.run(lambda s: {a.id: a.dialog_version for a in s.exec(select(Attempt)).all()}, write=False)
    assert results and all(version == by_attempt[aid] for aid, version in results)


class LockedMidCall:
    """A real conversation; once greeted it lets the test lock the database, then answers."""

    def __init__(self) -> None:
        self.greeted = asyncio.Event()
        self.locked = asyncio.Event()
        self.returned_while_locked: bool | None = None
        self.lock_held = lambda: False

    async def run(self, request):
        session = request.session()
        session.start()
        self.greeted.set()
        await self.locked.wait()
        while not session.finished:
            listen = session.current_listen
            for event in parse_answer(ANSWER_TO.get(listen.step, "<silence>") if listen else "<hangup>"):
                session.feed(event)
            await asyncio.sleep(0.05)  # the caller speaking: the answers' writes queue up meanwhile
        record = session.close()
        self.returned_while_locked = self.lock_held()
        return CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200)


async def test_a_database_locked_for_seconds_drops_no_call_and_loses_no_answer(tmp_path):
    """SQLite locked by another process for 3 s in mid-call, with a short busy wait so the
    write retries (not SQLite's own wait) carry it: the call goes on unblocked, and every
    answer and the final record are stored once the lock is gone."""
    import sqlite3
    import threading

    from storage.db import Database

    path = tmp_path / "v.db"
    db = Database(f"sqlite:///{path}", busy_timeout=0.1)
    db.upgrade()
    try:
        add_campaign(db, dialog_name="verification", dialog_path=str(ZH), people=[("+8613800000001", 1)])
        runner = LockedMidCall()
        dialer = Dialer(db, runner, worker_id="w", clock=Clock(), scripts=ScriptSource(db, ROOT))
        assert len(await dialer.tick()) == 1
        await asyncio.wait_for(runner.greeted.wait(), 10)
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock ...
        held = threading.Event()
        held.set()
        runner.lock_held = held.is_set

        def release():
            held.clear()
            blocker.execute("COMMIT")

        timer = threading.Timer(3.0, release)  # ... for three seconds
        timer.start()
        runner.locked.set()
        await settle(dialer)
        timer.join()
        blocker.close()
        assert runner.returned_while_locked is True  # the call was never held up by the database
        att = db.run(lambda s: s.exec(select(Attempt)).one(), write=False)
        assert (att.state, att.outcome) == ("ended", "completed")
        slots = db.run(lambda s: {r.slot for r in s.exec(select(Result)).all()}, write=False)
        assert {"identity", "residence", "health_code", "isolation", "nat_count", "nat_result"} <= slots
        person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
        assert person.state == "completed"
    finally:
        db.dispose()
