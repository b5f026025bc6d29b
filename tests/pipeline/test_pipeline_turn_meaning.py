"""End of turn by meaning with a recognizer that decodes the whole turn at a pause (Whisper's way:
no partial words, settle() is a decoding of everything said so far), through the real listener and
recognition pool with a fake recognizer: a complete answer ends its turn by meaning, an incomplete
one does not, and the pause's decoding is bounded (bot/pipeline/turn_meaning.py): none when the
pool is behind, none for a turn too short to hold a word, one in flight per call, and a settle
still queued when its turn has ended is dropped."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from audio.fakes import EnergyOnlySession, FakeRecognizer, tone
from audio.scheduler import RecognitionPool, RecognitionStream
from audio.vad import SpeechDetector
from bot.dialog.events import Utterance
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.pipeline.listener import CallerListener

ROOT = Path(__file__).parents[2]
RATE = 8000


class WholeTurn(FakeRecognizer):
    """A fake Whisper: settle() "decodes" the turn so far (counted), optionally held on a gate."""

    hears_after_settle = True

    def __init__(self, texts: list[str], gate: threading.Event | None = None) -> None:
        super().__init__(texts)
        self.settles = 0
        self.gate = gate

    def settle(self) -> str:
        self.settles += 1
        if self.gate is not None:
            assert self.gate.wait(5)
        return super().settle()


def the_question(step: str):
    session = CallSession(load_script(ROOT / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"},
                          {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in {"residence": ["是 的"], "health_code": ["是 的", "城关区 白银 路"]}[step]:
        session.feed(Utterance(answer))
    return session.current_listen


async def a_turn(rec, step: str, audio: bytes, *, behind: float = 0.0, release: threading.Event | None = None):
    """Feed `audio` in 20 ms frames at a quick pace; returns (listener, seconds from the audio's start
    to the turn's end, the answer)."""
    pool = RecognitionPool(1)
    pool.final_wait = lambda: behind  # the queue wait admission control reads
    lst = CallerListener(SpeechDetector(EnergyOnlySession()), rec, pool, lambda listen: None)
    ends, answers = [], []

    async def emit(item) -> None:
        if getattr(item, "started", None) is False:
            ends.append(lst._heard / 2 / RATE)
        if isinstance(item, tuple):
            answers.append(item[0])

    lst._emit = emit
    lst.expect(the_question(step))
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
        await asyncio.sleep(0.01)  # the recognition thread's words reach the loop as on a live line
    if release is not None:
        release.set()
    answer = await asyncio.wait_for(answers[0], 5) if answers else None
    await lst.stream.close()
    pool.close()
    assert ends, "the turn never ended"
    return lst, ends[0], answer


SPEECH = 0.5
PAUSE = bytes(int(1.5 * RATE) * 2)


async def test_a_complete_answer_ends_its_turn_by_meaning():
    rec = WholeTurn(["绿 码"])
    lst, end, answer = await a_turn(rec, "health_code", tone(SPEECH) + PAUSE)
    assert lst.meaning_ends == 1 and rec.settles == 1
    assert end - SPEECH < 0.4  # (the short silence: the full one is 0.8 s)
    assert answer.text == "绿 码"


async def test_an_incomplete_answer_waits_the_full_silence():
    rec = WholeTurn(["我 住 在"])
    lst, end, _ = await a_turn(rec, "residence", tone(SPEECH) + PAUSE)
    assert rec.settles == 1  # the pause was decoded and judged: not an answer yet
    assert lst.meaning_ends == 0
    assert end - SPEECH > 1.1


async def test_no_decoding_at_a_pause_when_the_pool_is_behind():
    rec = WholeTurn(["绿 码"])
    lst, end, answer = await a_turn(rec, "health_code", tone(SPEECH) + PAUSE, behind=0.7)
    assert rec.settles == 0 and lst.pauses_skipped == 1 and lst.meaning_ends == 0
    assert end - SPEECH > 0.7
    assert answer.text == "绿 码"  # heard at the turn's end, as without end of turn by meaning


async def test_the_same_pool_wait_below_what_the_early_end_saves_still_decodes():
    rec = WholeTurn(["绿 码"])
    lst, _, _ = await a_turn(rec, "health_code", tone(SPEECH) + PAUSE, behind=0.3)  # < 0.8 - 0.15
    assert rec.settles == 1 and lst.meaning_ends == 1


async def test_a_click_is_not_decoded():
    rec = WholeTurn(["绿 码"])
    lst, _, _ = await a_turn(rec, "health_code", tone(0.07) + PAUSE)  # 70 ms: no word
    assert rec.settles == 0 and lst.pauses_skipped == 1


async def test_one_decoding_in_flight_per_call():
    """The caller pauses, speaks on while that pause is still being decoded, pauses again: the second
    pause is not decoded (the turn's end is); the late words of the first are not judged."""
    gate = threading.Event()
    rec = WholeTurn(["绿 码"], gate)
    gap = bytes(int(0.2 * RATE) * 2)
    lst, end, answer = await a_turn(rec, "health_code", tone(SPEECH) + gap + tone(SPEECH) + PAUSE, release=gate)
    assert rec.settles == 1 and lst.pauses_skipped == 1
    assert lst.meaning_ends == 0 and end - (2 * SPEECH + 0.2) > 0.7
    assert answer.text == "绿 码"


async def test_a_settle_queued_behind_its_turn_end_is_dropped():
    pool = RecognitionPool(1)
    gate = threading.Event()
    blocker = RecognitionStream(pool, WholeTurn(["x"], gate), feed_bytes=1)
    rec = WholeTurn(["绿 码"])
    stream = RecognitionStream(pool, rec, feed_bytes=1)
    reported: list[str] = []
    blocker.feed(b"\x01\x00")
    blocked = blocker.end_turn()
    blocker.feed(b"\x01\x00" * 80, settle=True)  # the pool's only thread is held by this decoding
    await asyncio.sleep(0.05)
    stream.feed(b"\x01\x00" * 80, settle=True, on_settled=reported.append)
    final = stream.end_turn(b"\x01\x00" * 80)
    gate.set()
    assert (await asyncio.wait_for(final, 5)).text == "绿 码"
    await blocked
    assert rec.settles == 0 and stream.settles_dropped == 1 and reported == []
    await stream.close()
    await blocker.close()
    pool.close()
