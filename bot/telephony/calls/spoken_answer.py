"""A call code answered by voice or keys (issue 25 item 2), for
bot.telephony.calls.caller_verification.code_verifier: `read_answer` takes the caller's keys, or their
speech up to a pause; `spoken_code_ear` hears that speech with the locale's recognizer given the
code's digits (bot.nlu.spoken_code) and gives up the words when it is unsure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from audio.recognizer import VOICED_RMS
from bot.nlu.spoken_code import code_phrases
from bot.telephony.sip.call import SipCall

END_OF_SPEECH = 0.8  # s of quiet after speech that end a said code (the pause between groups is shorter)
MIN_SPEECH = 0.15  # s of voiced audio that make speech (a click or a breath does not)
MAX_SPEECH = 10.0  # s: the longest a said code is listened to
PREROLL = 0.3  # s of audio kept before the first voiced frame (a soft first syllable)
# A said code heard less surely than this is unclear (asked again, no guess counted), not a wrong
# guess: on 72 synthetic Mandarin codes (benchmarks/spoken_code_accuracy.py) 5 of the 8 wrong codes
# Whisper heard scored below 0.3, and 5 of the 44 right ones.
SURE_CODE = 0.3


def keys_until(count: int, done: asyncio.Event) -> tuple[list[str], Callable[[str], None]]:
    """(the digits keyed, a DTMF handler): up to `count` digits, `done` set at the last one or at '#'."""
    got: list[str] = []

    def on_dtmf(digit: str) -> None:
        if digit == "#":
            done.set()
        elif len(got) < count:
            got.append(digit)
            if len(got) == count:
                done.set()

    return got, on_dtmf


async def read_answer(call: SipCall, count: int, seconds: float, *, listen: bool = False,
                      typed: list[str] | None = None) -> tuple[str, bytes]:
    """(keyed, speech): up to `count` DTMF digits (ended early by '#'; `typed`: keys pressed during
    the prompt, kept), or with `listen` the caller's speech (8 kHz PCM) when they talk instead,
    ended by `END_OF_SPEECH` of quiet. A key pressed takes over from speech. An energy gate,
    hand-written: the turn's end is all that is needed here, and the recognizer (given the code's
    digits) judges what was said."""
    done = asyncio.Event()
    got, on_dtmf = keys_until(count, done)
    speech, pre = bytearray(), bytearray()
    counts = {"voiced": 0, "quiet": 0}
    previous, previous_audio = call.media.on_dtmf, getattr(call.media, "on_audio", None)

    def on_audio(pcm: bytes) -> None:
        if previous_audio is not None:
            previous_audio(pcm)
        if got or done.is_set():
            return
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        loud = samples.size > 0 and float(np.sqrt(np.mean(samples ** 2))) >= VOICED_RMS
        if not speech and not loud:
            pre.extend(pcm)
            del pre[: max(0, len(pre) - int(PREROLL * 16000))]
            return
        if not speech:
            speech.extend(pre)
        speech.extend(pcm)
        counts["voiced" if loud else "quiet"] += samples.size
        if loud:
            counts["quiet"] = 0
        if counts["quiet"] >= END_OF_SPEECH * 8000:
            if counts["voiced"] >= MIN_SPEECH * 8000:
                done.set()
            else:  # a click, not speech
                speech.clear()
                counts.update(voiced=0, quiet=0)
        elif len(speech) >= MAX_SPEECH * 16000:
            done.set()

    for digit in typed or ():
        if not done.is_set():
            on_dtmf(digit)
    call.media.on_dtmf = on_dtmf
    if listen:
        call.media.on_audio = on_audio
    try:
        ended = asyncio.ensure_future(call.ended.wait())
        waiting = asyncio.ensure_future(done.wait())
        await asyncio.wait({ended, waiting}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        if speech and not got and not done.is_set() and not call.ended.is_set():  # still talking
            await asyncio.wait({ended, waiting}, timeout=MAX_SPEECH, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        waiting.cancel()
    finally:
        call.media.on_dtmf = previous
        if listen:
            call.media.on_audio = previous_audio
    keyed = "".join(got)
    return keyed, (bytes(speech) if not keyed and counts["voiced"] >= MIN_SPEECH * 8000 else b"")


def spoken_code_ear(recognizer: Callable[[], Any], locale: str) -> Callable[[bytes], str]:
    """`code_verifier(hear=...)`: what a caller said, heard by a new recognizer of the locale
    (`SpeechResources.recognizer`) given the code's digits as its expected set
    (bot.nlu.spoken_code.code_phrases; Whisper judges its n-best by the code, bot.pipeline.ears)."""

    def hear(pcm: bytes) -> str:
        rec = recognizer()
        try:
            rec.expect(code_phrases(locale))
            rec.accept(pcm)
            heard = rec.finish()
        finally:
            rec.close()
        return heard.text if heard.confidence >= SURE_CODE else ""  # unsure: asked again, no guess

    return hear
