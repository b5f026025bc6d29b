"""The scripted resident: a SIP user agent that answers calls and, after each bot prompt
ends, gives the next answer of its script (speech in the dialog's language, in its default voice:
natural where installed (audio/synthesis.py), else espeak-ng; a
key, silence, or hang-up). It records what it heard; it also accepts blind transfers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from audio.synthesis import speak
from bot.telephony.detection.answering_machine import rms
from bot.telephony.sip.call import SipCall
from bot.telephony.sip.endpoint import SipEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    kind: str  # speech | dtmf | silence | hangup
    value: str = ""


def parse_answers(lines: list[str]) -> list[Answer]:
    """Lines as for `veribot simulate` (a trailing ` @0.42` confidence is ignored)."""
    out: list[Answer] = []
    for n, raw in enumerate(lines, 1):
        text = raw.strip()
        if text in ("", "<silence>"):
            out.append(Answer("silence"))
        elif text == "<hangup>":
            out.append(Answer("hangup"))
        elif text.lower().startswith("dtmf:"):
            keys = text[5:].strip()
            if not keys or any(k not in "0123456789*#ABCD" for k in keys):
                raise ValueError(f"line {n}: bad DTMF keys {keys!r}")
            out.append(Answer("dtmf", keys))
        else:
            words, _, conf = text.rpartition(" @")
            out.append(Answer("speech", words if words and conf.replace(".", "").isdigit() else text))
    return out


@dataclass
class Heard:
    """What one call sounded like from the resident's side."""

    audio: bytearray = field(default_factory=bytearray)
    prompts: int = 0
    answers: list[str] = field(default_factory=list)
    end_reason: str = ""
    transferred_to: str = ""


class Resident:
    """Plays one scripted resident on one call."""

    def __init__(self, answers: list[Answer], locale: str, prompt_gap: float = 1.0, speech_level: float = 300.0) -> None:
        self.answers = answers
        self.locale = locale
        self.prompt_gap = prompt_gap
        self.speech_level = speech_level

    async def run(self, call: SipCall) -> Heard:
        heard = Heard()
        prompt_over = asyncio.Event()
        state = {"speaking": False, "quiet_since": time.monotonic()}

        def on_audio(pcm: bytes) -> None:
            heard.audio.extend(pcm)
            now = time.monotonic()
            if rms(pcm) >= self.speech_level:
                state["speaking"], state["quiet_since"] = True, now
            elif state["speaking"] and now - state["quiet_since"] >= self.prompt_gap:
                state["speaking"] = False
                heard.prompts += 1
                prompt_over.set()

        call.media.on_audio = on_audio
        queue = list(self.answers)
        while not call.ended.is_set():
            prompt_over.clear()
            ended = asyncio.ensure_future(call.ended.wait())
            got = asyncio.ensure_future(prompt_over.wait())
            await asyncio.wait({ended, got}, return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()
            got.cancel()
            if call.ended.is_set():
                break
            if not queue:
                heard.answers.append("<hangup>")
                call.hangup()
                break
            answer = queue.pop(0)
            heard.answers.append(answer.value or f"<{answer.kind}>")
            if answer.kind == "hangup":
                call.hangup()
            elif answer.kind == "dtmf":
                call.media.send_dtmf(answer.value)
            elif answer.kind == "speech":
                call.media.play(await speak(answer.value, self.locale))
                await call.media.drained()
                state["quiet_since"] = time.monotonic()
        heard.end_reason = call.end_reason
        return heard


def write_wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)
    return path


class Softphone:
    """A SipEndpoint whose inbound calls are answered by a Resident. After a blind
    transfer (REFER) it calls the target and stays there `stay_on_transfer` seconds."""

    def __init__(self, endpoint: SipEndpoint, resident: Resident, record_dir: Path | None = None,
                 stay_on_transfer: float = 1.0) -> None:
        self.endpoint = endpoint
        self.resident = resident
        self.record_dir = record_dir
        self.stay_on_transfer = stay_on_transfer
        self.calls: list[Heard] = []
        self.finished = asyncio.Event()
        endpoint.on_inbound = self._answer
        endpoint.on_refer = self._transfer

    async def _answer(self, call: SipCall) -> None:
        heard = await self.resident.run(call)
        heard.transferred_to = call.transferred_to
        self.calls.append(heard)
        n = len(self.calls)
        summary = {"call": n, "end_reason": heard.end_reason, "prompts": heard.prompts, "answers": heard.answers,
                   "heard_seconds": round(len(heard.audio) / 16000, 2), "transferred_to": heard.transferred_to}
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            summary["recording"] = str(write_wav(self.record_dir / f"call-{n:03d}.wav", bytes(heard.audio)))
        print(json.dumps(summary, ensure_ascii=False), flush=True)
        self.finished.set()

    async def _transfer(self, call: SipCall, target: str) -> int:
        out = await self.endpoint.dial(target)
        if out.call is None:
            return out.status or 500
        call.transferred_to = target
        self.endpoint._spawn(self.endpoint.supervise(out.call, asyncio.sleep(self.stay_on_transfer)))
        return 200
