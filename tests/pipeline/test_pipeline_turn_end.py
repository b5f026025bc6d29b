"""End of turn by meaning, the seam between the dialog and the listener: the dialog's `Listen`
says whether words heard so far answer the question (`complete`), and the listener, on a partial
result heard once the caller fell silent, shortens the end-of-turn silence to
`end_silence_complete` (and keeps the full `end_silence` for "我住在……")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from audio.fakes import EnergyOnlySession, FakeRecognizer, tone
from audio.scheduler import RecognitionPool
from audio.vad import SpeechDetector
from bot.dialog.events import Utterance
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.pipeline.listener import CallerListener

ROOT = Path(__file__).parents[2]


@pytest.fixture
def listener():
    pool = RecognitionPool(1)
    yield CallerListener(SpeechDetector(EnergyOnlySession()), FakeRecognizer([]), pool, lambda listen: None)
    pool.close()


def the_question(step: str):
    session = CallSession(load_script(ROOT / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"},
                          {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in {"identity": [], "residence": ["是 的"], "health_code": ["是 的", "城关区 白银 路"]}[step]:
        session.feed(Utterance(answer))
    return session.current_listen


def silent_after_speech(listener: CallerListener) -> None:
    listener._in_turn = True
    listener.detector.feed(tone(0.5) + bytes(int(0.1 * 8000) * 2))  # speech, then 100 ms of silence
    assert listener.detector.trailing_silence > 0
    listener._probed = listener._settled = True  # the words up to this pause were sent to be judged (_probe_silence)


def end_silence(listener: CallerListener) -> float:
    return listener.detector.stop_windows * 256 / 8000  # Silero windows of 256 samples at 8 kHz


def test_a_complete_answer_ends_the_turn_after_the_short_silence(listener):
    listen = the_question("health_code")
    assert listen.end_silence == 0.8 and listen.end_silence_complete == 0.15
    listener.expect(listen)
    silent_after_speech(listener)
    listener._on_settled(listener._pause, "绿 码")
    assert end_silence(listener) == pytest.approx(0.15, abs=0.02)
    listener._on_settled(listener._pause, "嗯 那个")  # the recognizer revised what it heard: not an answer, wait
    assert end_silence(listener) == pytest.approx(0.8, abs=0.02)


def test_an_answer_still_going_waits_the_full_silence(listener):
    listen = the_question("residence")
    assert listen.end_silence == 1.2
    listener.expect(listen)
    silent_after_speech(listener)
    listener._on_settled(listener._pause, "我 住 在")
    assert end_silence(listener) == pytest.approx(1.2, abs=0.02)
    listener._on_settled(listener._pause, "我 住 在 城关区 白银 路")
    assert end_silence(listener) == pytest.approx(0.15, abs=0.02)


def test_while_the_caller_speaks_nothing_is_shortened(listener):
    listener.expect(the_question("identity"))
    listener._in_turn = True
    listener.detector.feed(tone(0.5))  # still speaking
    listener._settled = True  # (words of an earlier pause arriving late)
    listener._on_settled(listener._pause, "是 的")
    assert end_silence(listener) == pytest.approx(0.8, abs=0.02)


async def _turn_end_after(answer: str, step: str) -> float:
    """Seconds of silence after which the real listener, fed 20 ms frames of 0.5 s of speech and 1.5 s of
    silence, ends the turn whose words (the recognizer's, at the pause) are `answer`."""
    pool = RecognitionPool(1)
    lst = CallerListener(SpeechDetector(EnergyOnlySession()), FakeRecognizer([answer]), pool, lambda listen: None)
    ends: list[float] = []

    async def emit(item) -> None:
        if getattr(item, "started", None) is False:
            ends.append(lst._heard / 2 / 8000)

    lst._emit = emit
    lst.expect(the_question(step))
    audio = tone(0.5) + bytes(int(1.5 * 8000) * 2)
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
        await asyncio.sleep(0.01)  # the recognition thread's words reach the loop as on a live line
    await lst.stream.close()
    pool.close()
    assert ends, "the turn never ended"
    return ends[0] - 0.5


async def test_the_listener_ends_a_complete_answer_at_a_short_pause():
    """Through the real listener and recognition pool: at the pause the words so far are settled and
    judged at once, so "绿码" ends after ~0.15 s, "我住在" only after the question's full 1.2 s."""
    assert await _turn_end_after("绿 码", "health_code") < 0.4
    assert await _turn_end_after("我 住 在", "residence") > 1.1


async def test_the_pause_after_settled_words_is_not_decoded_again():
    """A turn ended in the pause whose words were settled hands the recognizer no more audio: the
    pause is silence (the VAD said so) and decoding it costs a second Vosk FinalResult per turn. The
    answer is the settled words; the clip still holds the whole turn, pause included."""
    pool = RecognitionPool(1)
    fake = FakeRecognizer(["绿 码"])
    lst = CallerListener(SpeechDetector(EnergyOnlySession()), fake, pool, lambda listen: None)
    out: list = []

    async def emit(item) -> None:
        out.append(item)

    lst._emit = emit
    lst.expect(the_question("health_code"))
    audio = tone(0.5) + bytes(int(1.0 * 8000) * 2)
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
        await asyncio.sleep(0.01)
    answers = [item for item in out if isinstance(item, tuple)]
    assert len(answers) == 1
    answer = await answers[0][0]
    await lst.stream.close()
    pool.close()
    assert answer.text == "绿 码"
    fed_after_speech = len(fake.turns[0]) / 2 / 8000 - 0.5  # the turn's audio starts with the speech (pre-roll: none before it)
    print(f"fed {fed_after_speech:.3f} s of the pause")
    assert fed_after_speech < 0.15  # up to the settle at ~0.1 s of silence, not to the turn's end
