"""The call code said back (issue 25 item 2), the verifier's turns: a resident may say the code
as well as key it; an unclear answer (no six digits) is asked once more and is no guess; a wrong
said code is counted like a keyed one, asked once more, then keys are asked for; the lockout is
the same for both. The ear is scripted here (what the recognizer wrote); the real Mandarin voice
over SIP is tests/telephony/test_tel_spoken_code_call.py (bot/telephony/calls/spoken_answer.py)."""

from __future__ import annotations

import asyncio

import numpy as np
from sqlmodel import select
from test_tel_call_codes import AGENCY, CODE, _seed

from audio.recognizer import Recognition
from bot.campaigns.inbound.call_codes import GuessBudget
from bot.campaigns.inbound.callbacks import Callbacks
from bot.nlu.spoken_code import code_phrases
from bot.pipeline.ears import EarStatus
from bot.telephony.calls.caller_verification import spoken_code_ear
from storage.models import CodeGuess, InboundCall, Person

RATE = 8000
VOICE = (4000 * np.sin(2 * np.pi * 220 * np.arange(int(0.6 * RATE)) / RATE)).astype("<i2").tobytes()
QUIET = b"\x00\x00" * RATE


class _TalkingCall:
    """Just enough of a SipCall: after each prompt the next answer — ("say", text): 0.6 s of
    voice then quiet on the line, which the scripted ear hears as `text`; ("keys", digits);
    ("quiet", ""): nothing."""

    def __init__(self, *answers: tuple[str, str]) -> None:
        self.answers, self.ended, self.media = list(answers), asyncio.Event(), self
        self.on_dtmf = self.on_audio = None
        self.ear: list[str] = []

    def play(self, pcm: bytes) -> None:
        if self.answers:
            kind, value = self.answers.pop(0)
            asyncio.get_running_loop().call_later(0.05, self._answer, kind, value)

    def _answer(self, kind: str, value: str) -> None:
        if kind == "keys":
            for k in value:
                self.on_dtmf(k)
        elif kind == "say":
            self.ear.append(value)
            line = QUIET[:3200] + VOICE + QUIET
            for i in range(0, len(line), 320):  # 20 ms packets, as RTP brings them
                if self.on_audio is not None:
                    self.on_audio(line[i:i + 320])

    async def drained(self) -> None:
        await asyncio.sleep(0)

    def hear(self, pcm: bytes) -> str:
        assert len(pcm) >= 0.6 * RATE * 2  # the whole utterance reached the ear
        return self.ear.pop(0)


def _verifier(db, call: _TalkingCall, said: list[str], **kw):
    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    return Callbacks(db, **kw).verifier(AGENCY, "zh-CN", speak=speak, timeout=1, hear=call.hear)


def _guesses(db) -> int:
    return len(db.run(lambda s: s.exec(select(CodeGuess)).all(), write=False))


def _outcomes(db) -> list[str]:
    return db.run(lambda s: [r.outcome for r in s.exec(select(InboundCall).order_by(InboundCall.id)).all()],
                  write=False)


async def test_a_said_code_proves_the_call(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("say", "我的核验码是四七二，幺零九"))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is True
    assert said[0].startswith("如需核实我们打给您的电话，请说出") and said[1].startswith("核验成功")
    assert _outcomes(sqlite_db) == ["genuine"] and _guesses(sqlite_db) == 0  # a right code costs nothing


async def test_keys_still_work_at_the_first_question(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("keys", CODE + "#"))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is True
    assert len(said) == 2 and said[1].startswith("核验成功")


async def test_an_unclear_answer_is_asked_again_and_is_no_guess(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("say", "嗯，我找一下"), ("say", "四七二幺零九"))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is True
    assert said[1].startswith("抱歉，没有听清") and said[2].startswith("核验成功")
    assert _guesses(sqlite_db) == 0 and _outcomes(sqlite_db) == ["genuine"]


async def test_a_wrong_said_code_is_asked_again_then_keyed(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("say", "七八四零八零"), ("say", "七八四零八零"), ("keys", CODE + "#"))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is True
    assert said[1].startswith("抱歉，没有听清，或与我们的来电记录不符")
    assert said[2] == "请用电话按键输入6位核验码，以井号键结束。"
    assert said[3].startswith("核验成功")
    # the two wrong said codes are counted (as keyed ones would be); the callback is recorded once
    assert _guesses(sqlite_db) == 2 and _outcomes(sqlite_db) == ["genuine"]


async def test_at_the_keypad_question_speech_is_not_taken(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("say", "一二三"), ("quiet", ""), ("say", CODE))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is False
    assert said[-1] == "请用电话按键输入6位核验码，以井号键结束。" and call.ear == [CODE]  # never heard
    assert _outcomes(sqlite_db) == ["no_code"] and _guesses(sqlite_db) == 0


async def test_said_guesses_count_against_the_lockout_like_keyed_ones(db) -> None:
    _seed(db)
    said: list[str] = []
    call = _TalkingCall(("say", "七八四零八零"), ("say", "五五五六六六"), ("keys", "111111#"))
    assert (await _verifier(db, call, said)(call, "13800000001")).proved is False
    assert said[-1].startswith("您输入的核验码与我们的来电记录不符")  # the last one was keyed
    assert _guesses(db) == 3
    # 3 wrong codes an hour: the next caller from that number is locked, the right said code too
    call = _TalkingCall(("say", "四七二幺零九"))
    assert (await _verifier(db, call, said)(call, "+8613800000001")).proved is False
    assert "核验失败次数过多" in said[-1]
    assert _outcomes(db) == ["wrong_code", "locked"]
    person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
    assert (person.state, person.attempt_count) == ("pending", 1)


async def test_a_said_guess_over_budget_is_locked_in_the_same_call(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _TalkingCall(("say", "七八四零八零"), ("say", "四七二幺零九"))
    verify = _verifier(sqlite_db, call, said, guess_budget=GuessBudget(per_hour=1))
    assert (await verify(call, "13800000001")).proved is False
    assert said[1].startswith("抱歉") and "核验失败次数过多" in said[-1]
    assert _outcomes(sqlite_db) == ["locked"]


class _Recognizer:
    def __init__(self, text: str, confidence: float) -> None:
        self.result, self.expected, self.fed, self.closed = Recognition(text, confidence), None, b"", False

    def expect(self, phrases) -> None:
        self.expected = phrases

    def accept(self, pcm: bytes) -> None:
        self.fed += pcm

    def finish(self) -> Recognition:
        return self.result

    def close(self) -> None:
        self.closed = True


def test_the_ear_gets_the_digits_and_an_unsure_hearing_is_no_code() -> None:
    """An unsure recognition is unclear (asked again, no guess), not a wrong guess that costs the
    resident one of their 3 an hour."""
    sure = _Recognizer("我的核验码是587148。", 0.8)
    assert spoken_code_ear(lambda: sure, "zh-CN")(VOICE) == "我的核验码是587148。"
    assert sure.expected == code_phrases("zh-CN") and sure.fed == VOICE and sure.closed
    unsure = _Recognizer("我的核验码 138900次。", 0.2)
    assert spoken_code_ear(lambda: unsure, "zh-CN")(VOICE) == "" and unsure.closed


class _Resources:
    """The worker's SpeechResources as the verifier uses them: which ear hears, a recognizer."""

    def __init__(self, engine: str | None, text: str = "") -> None:
        self.engine, self.text, self.made = engine, text, 0

    def ear(self, locale: str) -> EarStatus:
        return EarStatus(locale, self.engine, None)

    def recognizer(self, locale: str) -> _Recognizer:
        self.made += 1
        return _Recognizer(self.text, 0.8)


async def test_serve_s_resources_let_a_locale_with_an_ear_say_the_code(sqlite_db) -> None:
    """`veribot serve` passes its SpeechResources: a locale they hear may say the code, one
    without an ear keys it (the old question)."""
    _seed(sqlite_db)
    said: list[str] = []

    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b""

    ears = _Resources("whisper", "我的核验码是四七二，幺零九")
    verify = Callbacks(sqlite_db).verifier(AGENCY, "zh-CN", speak=speak, timeout=1, resources=ears)
    call = _TalkingCall(("say", ""))
    assert (await verify(call, "13800000001")).proved is True and ears.made == 1
    deaf = Callbacks(sqlite_db).verifier(AGENCY, "zh-CN", speak=speak, timeout=1, resources=_Resources(None))
    said.clear()
    assert (await deaf(_TalkingCall(("keys", CODE + "#")), "13800000001")).proved is True
    assert said[0].startswith("如需核实我们打给您的电话，请输入")  # keys only


class _EagerCall(_TalkingCall):
    """A resident who knows the code and keys it while the question is still playing."""

    def play(self, pcm: bytes) -> None:
        if self.answers:
            for k in self.answers.pop(0)[1]:
                self.on_dtmf(k)


async def test_keys_pressed_during_the_question_are_kept(sqlite_db) -> None:
    _seed(sqlite_db)
    said: list[str] = []
    call = _EagerCall(("keys", CODE))
    assert (await _verifier(sqlite_db, call, said)(call, "13800000001")).proved is True
    assert call.on_dtmf is None  # the call's own key handler is back
