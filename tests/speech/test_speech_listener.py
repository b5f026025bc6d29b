"""The listener alone, in pipecat's own test harness: audio in, turn and answer frames out."""

import pytest
from pipecat.frames.frames import InputAudioRawFrame, InterimTranscriptionFrame
from pipecat.tests.utils import run_test

from audio.recognizer import AnswerRecognizer
from audio.scheduler import RecognitionPool
from audio.vad import SpeechDetector
from bot.dialog.events import Listen
from bot.pipeline.call import grammar_phrases_for
from bot.pipeline.frames import CallerAnswerFrame, CallerSpeechFrame, LineClockFrame
from bot.pipeline.listener import CallerListener

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
