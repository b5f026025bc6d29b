"""Answering-machine detection: a greeting-length heuristic on the first seconds after
answer. People say a short "喂？/Hello?" and wait; machines talk on. Ties go to human:
taking a person for a machine loses the call, the reverse only costs a short message.
A person who talks on ("喂，你好，哪位啊，我是…") is told apart by the words when a recognizer
is given; carrier announcements and SIT tones on the opening get their own outcomes
(bot.telephony.detection.carrier_announcements). Figures: benchmarks/amd_bench.py, README "Telephony"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass

import numpy as np

from audio.synthesis import speak
from bot.telephony.detection import carrier_announcements as carrier
from bot.telephony.settings import TelephonySettings
from bot.telephony.sip.call import SipCall

FRAME_SECONDS = 0.02
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GreetingRule:
    machine_after: float = 3.5  # continuous speech longer than this: machine
    gap: float = 0.3  # pauses shorter than this do not end a greeting
    human_silence: float = 0.6  # a short greeting followed by this much silence: human
    silent_human: float = 1.5  # nobody speaks for this long: a person waiting
    speech_level: float = 500.0  # RMS of 16-bit samples counted as speech

    def decide(self, levels: list[float]) -> str | None:
        """'machine', 'human', or None while undecided; levels are 20 ms RMS values."""
        run = silence = 0.0
        heard = False
        for level in levels:
            if level >= self.speech_level:
                heard = True
                run = run + silence + FRAME_SECONDS if silence < self.gap else FRAME_SECONDS
                silence = 0.0
                if run > self.machine_after:
                    return "machine"
            else:
                silence += FRAME_SECONDS
                if heard and silence >= self.human_silence:
                    return "human"
                if not heard and silence >= self.silent_human:
                    return "human"
        return None


def rms(pcm: bytes) -> float:
    a = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(a * a))) if a.size else 0.0


# What the opening says, when a recognizer is at hand: a voicemail greeting names itself; a person
# who talks on asks who is calling or says who they are. Words decide over timing.
_MACHINE_WORDS = re.compile(r"留言|提示音|嘀声|滴声|语音信箱|不方便接听|无法接听您的|秘书|录音|留下[您你]的|错过了[您你]的|"
                            r"leave (?:me |us )?(?:a |your )?(?:message|name)|after the (?:tone|beep)|voice ?mail|"
                            r"not available|can't come to the phone|cannot take your call|reached the voicemail")
_HUMAN_WORDS = re.compile(r"喂|哪位|谁啊|谁呀|是谁|你是|我是|你好|您好|什么事|hello|who is|who's|speaking|yeah|yes")


def words_verdict(text: str | None) -> str | None:
    """'machine' / 'human' from what the opening said, or None when the words do not tell."""
    t = (text or "").lower()
    if _MACHINE_WORDS.search(t):
        return "machine"
    if _HUMAN_WORDS.search(t):
        return "human"
    return None


class MachineDetector:
    """Listens to the first seconds after answer and says what answered: "human", "machine" or a
    carrier outcome (bot.telephony.detection.carrier_announcements: powered_off, invalid_number, unreachable, busy).

    Timing first (GreetingRule). When the opening is longer than a bare "喂" (`check_words`
    seconds of speech) and a `transcribe` function is given, its words are checked: a carrier
    announcement is that outcome; a voicemail phrase is a machine; a person's words ("喂，你好，
    哪位啊，我是…") keep a long greeting a person. A SIT tone is always listened for."""

    def __init__(self, rule: GreetingRule, message: str = "", *, detect_machines: bool = True,
                 transcribe: carrier.Transcribe | None = None, check_words: float = 1.2,
                 after_sit: float = 6.0) -> None:
        self.rule = rule
        self.message = message
        self.detect_machines = detect_machines  # False: carrier screening only (a machine counts as a person)
        self.transcribe = transcribe
        self.check_words = check_words
        self.after_sit = after_sit
        self._message: asyncio.Future[bytes | None] | None = None

    @classmethod
    def from_settings(cls, s: TelephonySettings, transcribe: carrier.Transcribe | None = None) -> MachineDetector | None:
        if not s.amd_enabled and not getattr(s, "carrier_detect", False):
            return None
        return cls(GreetingRule(machine_after=s.amd_greeting_seconds), s.amd_machine_message,
                   detect_machines=s.amd_enabled, transcribe=transcribe)

    async def is_machine(self, call: SipCall, locale: str = "zh-CN") -> bool:
        return await self.classify(call, locale) == "machine"

    async def classify(self, call: SipCall, locale: str) -> str:
        """'human', 'machine' or a carrier outcome, from the call's opening audio."""
        if self.message and self.detect_machines and self._message is None:
            # rendered while listening, so a machine gets the message at once, not after a
            # cold synthesis of seconds (its recording window may be short)
            self._message = asyncio.ensure_future(_quiet(speak(self.message, locale)))
        pcm = bytearray()
        levels: list[float] = []
        sit = carrier.SitDetector()
        loop = asyncio.get_running_loop()
        verdict: asyncio.Future[str] = loop.create_future()
        sit_at: list[int] = []

        def on_audio(chunk: bytes) -> None:
            pcm.extend(chunk)
            if verdict.done():
                return
            if not sit_at and sit.feed(chunk):
                sit_at.append(len(pcm))
                levels.clear()  # from here on: the words after the tone
            start = sit_at[0] if sit_at else 0
            while start + len(levels) * 320 + 320 <= len(pcm):
                at = start + len(levels) * 320
                levels.append(rms(bytes(pcm[at:at + 320])))
            if sit_at:  # the words follow the tone: until they end, or `after_sit` seconds
                said = any(v >= self.rule.speech_level for v in levels)
                quiet = next((i for i, v in enumerate(reversed(levels)) if v >= self.rule.speech_level), len(levels))
                if (said and quiet * FRAME_SECONDS >= self.rule.human_silence) or len(levels) * FRAME_SECONDS >= self.after_sit:
                    verdict.set_result("sit")
                return
            d = self.rule.decide(levels)
            if d is not None:
                verdict.set_result(d)

        previous = call.media.on_audio
        call.media.on_audio = on_audio
        try:
            limit = self.rule.machine_after + self.rule.silent_human + self.after_sit + 1.0
            try:
                heard = await asyncio.wait_for(asyncio.shield(verdict), limit)
            except TimeoutError:
                heard = "sit" if sit_at else "human"
        finally:
            call.media.on_audio = previous
        return await self._settle(heard, bytes(pcm[sit_at[0]:] if sit_at else pcm), levels, locale)

    async def _settle(self, heard: str, pcm: bytes, levels: list[float], locale: str) -> str:
        speech = sum(1 for v in levels if v >= self.rule.speech_level) * FRAME_SECONDS
        text = None
        if self.transcribe is not None and (heard in ("sit", "machine") or speech >= self.check_words):
            try:
                text = await asyncio.to_thread(self.transcribe, pcm, locale)
            except Exception:  # a failed recognizer must not fail the call: timing decides
                log.exception("the opening could not be transcribed")
        said = words_verdict(text)
        outcome = None if said == "machine" else carrier.match_announcement(text)  # "…请在提示音后留言": voicemail
        if outcome is not None:
            return outcome
        if heard == "sit":
            return carrier.UNREACHABLE
        if not self.detect_machines:
            return "human"
        return said or heard

    async def leave_message(self, call: SipCall, locale: str) -> None:
        if self.message:
            pcm = await self._message if self._message is not None else None
            call.media.play(pcm if pcm is not None else await speak(self.message, locale))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.media.drained(), 30)
        call.hangup()


async def _quiet(job) -> bytes | None:
    try:
        return await job
    except Exception:  # leave_message tries again and reports
        return None
