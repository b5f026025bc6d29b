"""The listener alone, in pipecat's own test harness: audio in, turn and answer frames out."""

import asyncio

import pytest
from pipecat.frames.frames import InputAudioRawFrame, InterimTranscriptionFrame
from pipecat.tests.utils import run_test

from audio.recognizer import AnswerRecognizer
from audio.scheduler import RecognitionPool
from audio.vad import SpeechDetector
from bot.dialog.events import Listen
from bot.pipeline.frames import CallerAnswerFrame, CallerSpeechFrame, LineClockFrame
from bot.pipeline.listener import CallerListener
from bot.pipeline.run import grammar_phrases_for

pytestmark = pytest.mark.asr


def frames(pcm: bytes, samples: int = 160):
    return [InputAudioRawFrame(audio=pcm[i : i + samples * 2], sample_rate=8000, num_channels=1)
            for i in range(0, len(pcm), samples * 2)]


@pytest.fixture
def listener(speech, tmp_path):
    model, vocab = speech.model("ko-KR")
    pool = RecognitionPool(1)
    yield CallerListener(SpeechDetector(speech.silero), AnswerRecognizer(model, vocab), pool,
                         grammar_phrases_for, clip_dir=tmp_path)
    pool.close()


async def test_one_answer_gives_start_interim_stop_and_the_words(listener, say_ko, tmp_path):
    listener.expect(Listen("health_code", "health_code", "ko-KR", 6.0, 0.6))
    audio = bytes(8000) + say_ko("녹색") + bytes(16000)
    down, _ = await run_test(listener, frames_to_send=frames(audio))
    kinds = [type(f) for f in down if not isinstance(f, LineClockFrame)]
    assert kinds[0] is CallerSpeechFrame and kinds[-2:] == [CallerSpeechFrame, CallerAnswerFrame]
    # interim words arrive when recognition has caught up (not at all when audio comes faster
    # than real time, as here); when they do, it is while the caller speaks
    assert set(kinds[1:-2]) <= {InterimTranscriptionFrame}
    answer = down[-1] if isinstance(down[-1], CallerAnswerFrame) else next(
        f for f in down if isinstance(f, CallerAnswerFrame))
    assert answer.text == "녹색" and answer.step == "health_code" and 0 < answer.confidence <= 1
    assert answer.words and answer.words[0][0] == "녹색"
    assert 0.45 < answer.speech_start < 0.6 < answer.speech_end  # 0.5 s of silence first
    clocks = [f.at for f in down if isinstance(f, LineClockFrame)]
    assert clocks == sorted(clocks) and abs(clocks[-1] - len(audio) / 16000) < 0.11
    assert [p.name for p in tmp_path.iterdir()] == ["01-health_code.wav"]


async def test_silence_gives_only_the_clock(listener):
    down, _ = await run_test(listener, frames_to_send=frames(bytes(8000 * 2 * 3)))
    assert down and all(isinstance(f, LineClockFrame) for f in down)


async def test_odd_length_frame_is_counted_and_the_line_goes_on(listener):
    broken = InputAudioRawFrame(audio=b"\x00\x01\x02", sample_rate=8000, num_channels=1)
    down, _ = await run_test(listener, frames_to_send=[broken, *frames(bytes(8000))])
    assert listener.bad_frames == 1
    assert [f.at for f in down if isinstance(f, LineClockFrame)][-1] == pytest.approx(0.5, abs=0.01)


class _Heard:
    def __init__(self, until: int):
        self.upto, self.until = 0, until
        self.all_heard = asyncio.Event()

    def heard(self, samples: int) -> None:
        self.upto = samples
        if samples >= self.until:
            self.all_heard.set()

    def turn_ended(self) -> None:
        pass


async def test_hearing_goes_on_while_recognition_is_held_and_frames_keep_their_order(speech, say_ko, tmp_path):
    """A recognizer stuck for a while (a burst of other calls) must not stop the call hearing:
    the whole line is heard meanwhile, and the answer still comes before what followed it."""
    import threading

    model, vocab = speech.model("ko-KR")
    gate, released = threading.Event(), []

    class Held(AnswerRecognizer):
        def finish(self):
            released.append(gate.wait(5))  # False: hearing waited for this (nobody released it)
            return super().finish()

    audio = bytes(8000) + say_ko("녹색") + bytes(8000 * 2 * 2)
    pool, line = RecognitionPool(1), _Heard(len(audio) // 2)
    listener = CallerListener(SpeechDetector(speech.silero, end_silence=0.3), Held(model, vocab), pool,
                              grammar_phrases_for, line=line, clip_dir=tmp_path)
    listener.expect(Listen("health_code", "health_code", "ko-KR", 6.0, 0.3))
    heard_while_held = []

    async def release():
        await line.all_heard.wait()
        heard_while_held.append(line.upto)
        gate.set()

    releaser = asyncio.ensure_future(release())
    down, _ = await run_test(listener, frames_to_send=frames(audio))
    await releaser
    pool.close()
    assert released == [True] and heard_while_held == [len(audio) // 2]  # all heard before the answer
    kinds = [type(f).__name__ for f in down]
    answer = kinds.index("CallerAnswerFrame")
    assert kinds[:answer].count("CallerSpeechFrame") == 2  # speech started and stopped
    clocks = [f.at for f in down if isinstance(f, LineClockFrame)]
    assert clocks == sorted(clocks) and "LineClockFrame" in kinds[answer:]  # later clock held back
    assert down[answer].text == "녹색"
    assert down[answer].clip == str(tmp_path / "01-health_code.wav")  # the evidence, already on disk


class _Slow:
    """A recognizer far behind (a fake: what matters is the listener's bound, not the words): it
    hears `settled` at the caller's pause, and its final result takes `delay` seconds."""

    def __init__(self, settled: str, delay: float):
        self.settled, self.delay, self.fed_samples = settled, delay, 0

    def expect(self, phrases):
        pass

    def accept(self, pcm):
        self.fed_samples += len(pcm) // 2

    def partial(self):
        return ""

    def settle(self):
        return self.settled

    def finish(self):
        import time

        from audio.recognizer import Recognition

        time.sleep(self.delay)
        return Recognition("绿码", 0.95)

    def close(self):
        pass


@pytest.mark.parametrize("settled", ["绿码", ""])
async def test_a_late_recognition_degrades_to_a_read_back_or_the_keypad_never_to_no_input(speech, say_ko, settled):
    from bot.pipeline.listener import LATE_CONFIDENCE, UNHEARD

    pool = RecognitionPool(1)
    listener = CallerListener(SpeechDetector(speech.silero, end_silence=0.8), _Slow(settled, 1.0), pool,
                              grammar_phrases_for, bound=0.3)
    listener.expect(Listen("health_code", "health_code", "zh-CN", 6.0, 0.8))
    from pipecat.tests.utils import SleepFrame

    # the caller pauses (the words so far are settled meanwhile), then the pause becomes the turn's end
    paused = [*frames(bytes(8000) + say_ko("녹색") + bytes(4800)), SleepFrame(0.5), *frames(bytes(8000 * 3))]
    down, _ = await run_test(listener, frames_to_send=paused)
    pool.close()
    answer = next(f for f in down if isinstance(f, CallerAnswerFrame))
    if settled:  # the words of the pause, read back (below every confirm_below)
        assert (answer.text, answer.confidence) == ("绿码", LATE_CONFIDENCE)
    else:  # nothing known: an answer nobody understands (no-match: the keypad is offered), not silence
        assert (answer.text, answer.confidence) == (UNHEARD, 0.0)
    assert listener.late_answers == 1


async def test_an_offline_call_waits_for_recognition_whatever_it_takes(speech, say_ko):
    pool, audio = RecognitionPool(1), bytes(8000) + say_ko("녹색") + bytes(8000 * 2)
    listener = CallerListener(SpeechDetector(speech.silero, end_silence=0.3), _Slow("", 0.6), pool,
                              grammar_phrases_for, bound=0.1, line=_Heard(len(audio) // 2))
    listener.expect(Listen("health_code", "health_code", "zh-CN", 6.0, 0.3))
    down, _ = await run_test(listener, frames_to_send=frames(audio))
    pool.close()
    assert [f.text for f in down if isinstance(f, CallerAnswerFrame)] == ["绿码"] and listener.late_answers == 0


def test_an_unheard_answer_to_a_closed_question_offers_the_keypad_not_no_input():
    """What the listener sends when recognition is behind and nothing was settled (UNHEARD) is a
    no-match: the shipped zh-CN script says it did not catch that and offers the keypad."""
    from pathlib import Path

    from bot.dialog.events import Say, Utterance
    from bot.dialog.script import load_script
    from bot.dialog.session import CallSession
    from bot.pipeline.listener import UNHEARD

    root = Path(__file__).resolve().parents[2]
    s = CallSession(load_script(root / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"},
                    {"agency": "兰州市公安局", "callback_number": "96110"})
    s.start()
    said = [a.text for a in s.feed(Utterance(UNHEARD, 0.0)) if isinstance(a, Say)]
    assert any("按1" in t for t in said), said  # 是王芳本人请按1，不是请按2。
    assert s._conv.failures == {"no_input": 0, "no_match": 1}
