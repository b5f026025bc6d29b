"""Issue 22: a callback to the official number says the desk's badge and official number as an
admin set them in the console (var/agency-overrides.json), exactly as a dialled call does, and a
change made while the worker runs reaches the next callback."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.campaigns.inbound.callbacks import Callbacks
from bot.campaigns.scripts import agency_overrides
from bot.dialog.script import load_script
from bot.settings import localised
from bot.simulate import run_text
from storage.models import Attempt, AttemptState, Campaign, CampaignStatus, Person, PersonState, utcnow
from tests.campaigns.campaign_fakes import KeyingCall

CONFIG = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110", "badge": ""}
PHONE, CODE = "+8613800000001", "472109"


def _seed(db) -> None:
    then = utcnow() - timedelta(days=1)

    def seed(s):
        c = Campaign(name="c1", status=CampaignStatus.RUNNING, concurrency=4,
                     dialog_path="dialogs/verification.zh-CN.yaml")
        s.add(c)
        s.flush()
        p = Person(campaign_id=c.id, name="张三", phone=PHONE, priority=1, state=PersonState.PENDING,
                   attempt_count=1)
        s.add(p)
        s.flush()
        s.add(Attempt(person_id=p.id, campaign_id=c.id, phone=PHONE, state=AttemptState.ENDED, claimed_at=then,
                      started_at=then, ended_at=then, outcome="no_answer", call_code=CODE))

    db.run(seed)


async def test_a_callback_says_the_badge_and_number_set_in_the_console(sqlite_db, tmp_path) -> None:
    _seed(sqlite_db)
    said: list[str] = []

    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    callbacks = Callbacks(sqlite_db, live_variables=lambda: agency_overrides.load(tmp_path))
    verify = callbacks.verifier(CONFIG, "zh-CN", speak=speak, timeout=1)  # built at start-up, as serve does
    agency_overrides.save(tmp_path, {"callback_number": "0931-12345", "badge": "GA2031"})  # set while running
    assert bool(await verify(KeyingCall("111111"), "13800000001")) is False
    wrong = next(t for t in said if "核验码与我们的来电记录不符" in t)
    assert "零九三一，幺二三四五" in wrong, wrong  # the saved number, as people say it
    assert bool(await verify(KeyingCall(CODE + "#"), "13800000001")) is True
    genuine = next(t for t in said if t.startswith("核验成功"))
    assert "工号GA2031" in genuine, genuine
    found = await callbacks.lookup(PHONE)
    assert found.variables["badge"] == "GA2031" and found.variables["callback_number"] == "0931-12345"
    script = load_script("dialogs/verification.zh-CN.yaml")
    # the endpoint's dialog: the config's values (localised), under the match's own
    conv = run_text(script, found.person, ["你们是谁"], {**localised(CONFIG, script.locale), **found.variables})
    who = [t.text for t in conv.record.transcript if t.speaker == "bot" and "工号" in t.text]
    assert who and "工号GA2031" in who[0] and "零九三一，幺二三四五" in who[0], who


class _Caller:
    """Just enough of a SipCall for the inbound handler's greeting of a caller it cannot match."""

    def __init__(self) -> None:
        self.sip_dialog, self.remote_number, self.ended, self.media = None, "13900000009", asyncio.Event(), self
        self.unknown_caller = self.verified = False

    def play(self, pcm: bytes) -> None:
        pass

    async def drained(self) -> None:
        await asyncio.sleep(0)


async def test_a_caller_not_matched_hears_the_number_set_in_the_console(tmp_path, monkeypatch) -> None:
    from bot.telephony.calls import worker_endpoint
    from bot.telephony.settings import TelephonySettings

    said: list[str] = []

    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    monkeypatch.setattr(worker_endpoint, "speak", speak)
    desk = agency_overrides.Overlaid(CONFIG, lambda: agency_overrides.load(tmp_path))  # as serve passes it
    handler = worker_endpoint.inbound_handler(TelephonySettings(inbound_dialog="dialogs/verification.zh-CN.yaml"), desk)
    agency_overrides.save(tmp_path, {"callback_number": "0931-12345", "badge": "GA2031"})  # after start-up
    caller = _Caller()
    await handler(caller)
    assert caller.unknown_caller and "官方电话零九三一，幺二三四五" in said[-1], said
