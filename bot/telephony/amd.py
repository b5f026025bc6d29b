"""Answering-machine detection: a greeting-length heuristic on the first seconds after
answer. People say a short "喂？/Hello?" and wait; machines talk on. Ties go to human:
taking a person for a machine loses the call, the reverse only costs a short message."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import numpy as np

from audio.synthesis import speak
from bot.telephony.settings import TelephonySettings
from bot.telephony.sip_call import SipCall

FRAME_SECONDS = 0.02


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


class MachineDetector:
    def __init__(self, rule: GreetingRule, message: str = "") -> None:
        self.rule = rule
        self.message = message

    @classmethod
    def from_settings(cls, s: TelephonySettings) -> MachineDetector | None:
        if not s.amd_enabled:
            return None
        return cls(GreetingRule(machine_after=s.amd_greeting_seconds), s.amd_machine_message)

    async def is_machine(self, call: SipCall) -> bool:
        levels: list[float] = []
        verdict: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        buf = bytearray()

        def on_audio(pcm: bytes) -> None:
            buf.extend(pcm)
            while len(buf) >= 320:
                levels.append(rms(bytes(buf[:320])))
                del buf[:320]
            d = self.rule.decide(levels)
            if d is not None and not verdict.done():
                verdict.set_result(d)

        previous = call.media.on_audio
        call.media.on_audio = on_audio
        try:
            limit = self.rule.machine_after + self.rule.silent_human + 1.0
            return await asyncio.wait_for(verdict, limit) == "machine"
        except TimeoutError:
            return False
        finally:
            call.media.on_audio = previous

    async def leave_message(self, call: SipCall, locale: str) -> None:
        if self.message:
            call.media.play(await speak(self.message, locale))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.media.drained(), 30)
        call.hangup()
