"""Caller ID is a claim, not identity (issue 12 item 1): a call whose From names a listed
person's number is an unknown caller until it is verified — nothing is looked up, claimed or
stored against the person, even from the trusted trunk."""

from __future__ import annotations

import asyncio
import contextlib

from sip_peers import REPO, call_the_bot
from sqlmodel import select

from bot.campaigns.inbound.callbacks import Callbacks
from bot.dialog.events import Turn as Said
from bot.telephony.calls.worker_endpoint import InboundMatch, inbound_handler
from bot.telephony.settings import TelephonySettings
from storage.models import Attempt, Campaign, CampaignStatus, Person, PersonState, Result, Turn

SCRIPT = REPO / "dialogs" / "verification.en-US.yaml"
AGENCY = {"agency": "City Police", "callback_number": "96110", "caller_id": "96110"}
PHONE = "+8613800000001"


async def _callback(make_endpoint, handler, *, hang_up_when: asyncio.Event | None = None) -> dict:
    """The listed person's number calls the bot from the trusted trunk (127.0.0.1) and, given
    `hang_up_when`, hangs up once it is set; returns the bot-side call's `extra` once its handler
    is done. Bounds are generous: a busy machine is slow, never wrong."""
    watched, out = await call_the_bot(make_endpoint, handler)
    assert out.call is not None
    if hang_up_when is not None:
        await asyncio.wait_for(hang_up_when.wait(), 60)
        out.call.hangup()
    await asyncio.wait_for(watched.finished.wait(), 60)
    return watched.extra


async def test_a_number_match_without_verification_is_an_unknown_caller(make_endpoint) -> None:
    looked_up: list[str] = []
    results: list[object] = []

    def lookup(number: str) -> dict:
        looked_up.append(number)
        return {"name": "Li Lei"}

    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY, lookup=lookup,
                              on_result=lambda req, res: results.append(res))
    extra = await _callback(make_endpoint, handler)
    assert extra.get("unknown_caller") is True  # greeted with the self-identification, then hung up
    assert looked_up == [] and results == []  # nobody was matched, nothing was stored


async def test_a_spoofed_callback_changes_no_person(make_endpoint, sqlite_db) -> None:
    db = sqlite_db

    def seed(s):
        c = Campaign(name="c1", status=CampaignStatus.RUNNING, concurrency=4)
        s.add(c)
        s.flush()
        s.add(Person(campaign_id=c.id, name="Li Lei", phone=PHONE, priority=1))

    db.run(seed)
    callbacks = Callbacks(db)
    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY,
                              lookup=callbacks.lookup, on_result=callbacks.on_result)
    extra = await _callback(make_endpoint, handler)
    assert extra.get("unknown_caller") is True
    person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
    assert (person.state, person.attempt_count, person.last_outcome) == (PersonState.PENDING, 0, None)
    for table in (Attempt, Turn, Result):
        assert db.run(lambda s, t=table: s.exec(select(t)).all(), write=False) == []


async def test_only_a_verified_caller_is_matched(make_endpoint) -> None:
    looked_up: list[str] = []
    results: list[object] = []
    checks: list[str] = []

    def lookup(number: str) -> dict:
        looked_up.append(number)
        return {"name": "Li Lei"}

    async def refuse(call, number: str) -> bool:
        checks.append(number)
        return False

    settings = TelephonySettings(inbound_dialog=str(SCRIPT))
    handler = inbound_handler(settings, AGENCY, lookup=lookup, on_result=lambda r, res: results.append(res),
                              verify=refuse)
    extra = await _callback(make_endpoint, handler)
    assert checks == ["13800000001"] and extra.get("unknown_caller") is True
    assert looked_up == [] and results == []

    asked = asyncio.Event()  # the dialog asked for the matched person: the caller hangs up then

    def matched(number: str) -> InboundMatch:
        def seen(note: object) -> None:
            if isinstance(note, Said) and note.text == "Am I speaking with Li Lei?":
                asked.set()
        return InboundMatch(lookup(number), observers=(seen,))

    handler = inbound_handler(settings, AGENCY, lookup=matched, on_result=lambda r, res: results.append(res),
                              verify=lambda call, number: True)
    extra = await _callback(make_endpoint, handler, hang_up_when=asked)
    assert "unknown_caller" not in extra and looked_up == ["13800000001"]
    (result,) = results
    assert "Am I speaking with Li Lei?" in [t.text for t in result.record.transcript]


async def _quiet(text: str, locale: str) -> bytes:
    return b"\x00\x00" * 800  # 0.1 s: the prompt's words do not matter here


async def test_a_caller_who_keys_the_right_code_is_matched_over_a_real_call(make_endpoint) -> None:
    from bot.telephony.calls.caller_verification import keypad_verifier

    looked_up: list[str] = []
    asked, matched = asyncio.Event(), asyncio.Event()

    async def question(text: str, locale: str) -> bytes:
        asked.set()  # the verifier is listening for keys from its question on
        return await _quiet(text, locale)

    # the keys' timeout is not what this test is about: long, so a late loop cannot end the wait
    verify = keypad_verifier({"13800000001": "4721"}.get, locale="en-US", speak=question, timeout=60)
    handler = inbound_handler(TelephonySettings(inbound_dialog=str(SCRIPT)), AGENCY,
                              lookup=lambda n: looked_up.append(n) or matched.set() or {"name": "Li Lei"}, verify=verify)
    finished = asyncio.Event()

    async def inbound(call) -> None:
        try:
            await handler(call)
        finally:
            finished.set()

    bot = await make_endpoint(inbound)
    phone = await make_endpoint()
    out = await phone.dial(f"sip:96110@127.0.0.1:{bot.local_addr[1]}", caller_id="13800000001")
    await asyncio.wait_for(asked.wait(), 60)
    out.call.media.send_dtmf("4721")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(matched.wait(), 60)
    assert looked_up == ["13800000001"]
    out.call.hangup()
    await asyncio.wait_for(finished.wait(), 60)


class _FakeCall:
    """Just enough of a SipCall for the verifier: DTMF in, audio out."""

    def __init__(self, keys: str) -> None:
        self.keys = keys
        self.ended = asyncio.Event()
        self.media = self
        self.on_dtmf = None

    def play(self, pcm: bytes) -> None:
        asyncio.get_running_loop().call_later(0.05, lambda: [self.on_dtmf(k) for k in self.keys])

    async def drained(self) -> None:
        await asyncio.sleep(0)


async def test_wrong_codes_fail_and_three_lock_the_number_out() -> None:
    from bot.telephony.calls.caller_verification import Lockout, keypad_verifier

    now = [0.0]
    verify = keypad_verifier({"13800000001": "4721"}.get, speak=_quiet, timeout=1,
                             lockout=Lockout(3, 3600, clock=lambda: now[0]))
    assert await verify(_FakeCall("4721#"), "13800000001") is True
    assert await verify(_FakeCall("47"), "13800000001") is False  # too short (timed out)
    assert await verify(_FakeCall("0000"), "13999999999") is False  # not listed: asked all the same, fails
    for _ in range(3):
        assert await verify(_FakeCall("1111"), "13800000001") is False
    assert await verify(_FakeCall("4721"), "13800000001") is False  # locked: even the right code
    now[0] += 3601
    assert await verify(_FakeCall("4721"), "13800000001") is True  # the lock expires


class _EagerCall(_FakeCall):
    """A caller who keys the code while the question is still playing (or whose keys the bot's
    loop, late on a busy machine, handles before it got to listening)."""

    def play(self, pcm: bytes) -> None:
        for key in self.keys:
            self.on_dtmf(key)


async def test_keys_pressed_during_the_question_are_kept() -> None:
    from bot.telephony.calls.caller_verification import keypad_verifier

    verify = keypad_verifier({"13800000001": "4721"}.get, speak=_quiet, timeout=60)
    assert await asyncio.wait_for(verify(_EagerCall("4721"), "13800000001"), 10) is True
    assert await asyncio.wait_for(verify(_EagerCall("1111"), "13800000001"), 10) is False  # and checked
