"""Carrier announcements: "您拨打的用户已关机 / 是空号 / 暂时无法接通 / 正在通话中" and SIT tones.

Chinese carriers answer a call they cannot complete with a recorded announcement, in early media
(183 + SDP) or after a 200 OK, often after a Special Information Tone. Taken for a person, the
dialog talks to a recording; taken for no answer, the number is retried like any other. This
module recognises them so an attempt gets its own outcome and retry policy
(bot.campaigns.dialing.policy): `powered_off`, `invalid_number`, `unreachable`, `busy`.

- `match_announcement(text)` — the phrase grammar, on what a recognizer heard in the first
  seconds (Mandarin and English carrier wording; spaces and punctuation ignored; the usual
  recognizer near-homophones of the key words accepted);
- `SitDetector` — the three rising SIT tones (ITU-T E.180 / Telcordia GR-1162: 913.8 or 985.2 Hz,
  1370.6 or 1428.5 Hz, 1776.7 Hz, each 274 or 380 ms) on 8 kHz 16-bit PCM;
- `classify(pcm, transcribe, locale)` — both, on a buffered opening: the outcome or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

POWERED_OFF, INVALID_NUMBER, UNREACHABLE, BUSY = "powered_off", "invalid_number", "unreachable", "busy"
OUTCOMES = (POWERED_OFF, INVALID_NUMBER, UNREACHABLE, BUSY)
RATE = 8000

# Order matters: the first rule that matches wins ("暂时无法接通" before a bare "关机" is fine;
# "空号" is checked before "无法接通", which some 空号 announcements also say).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (INVALID_NUMBER, re.compile(r"空号|(?:号码|用户)不存在|号码有误|停机|查证后|核对后再拨|(?:does not exist|not in service|is not a valid"
                                r"|no longer in service|has been disconnected|number you have dialled is invalid"
                                r"|number you have dialed is invalid)")),
    (POWERED_OFF, re.compile(r"已关机|已经关机|(?:is )?(?:switched|powered|power|turned) off|关机")),
    (BUSY, re.compile(r"正在通话中?|通话中|占线|忙|(?:is busy|is on another call|line is engaged)")),
    (UNREACHABLE, re.compile(r"无法接通|不在服务区|暂时无法|无人接听|(?:cannot be reached|not reachable|is unavailable"
                             r"|not be connected|out of (?:the )?(?:service|coverage) area|cannot be connected)")),
)
# Recognizers' near-homophones of the key words (Whisper on 8 kHz audio): folded before matching.
_SOUNDALIKE = (("关鸡", "关机"), ("观机", "关机"), ("空耗", "空号"), ("空后", "空号"), ("空好", "空号"), ("控号", "空号"), ("无法接听", "无法接通"),
               ("无法节通", "无法接通"), ("正再通话", "正在通话"), ("不再服务区", "不在服务区"), ("播打", "拨打"),
               ("拔打", "拨打"), ("波打", "拨打"))
_CARRIER_WORDS = re.compile(r"拨打|稍后再|请查证|the (?:number|subscriber|person) you (?:have )?(?:dialled|dialed|called)"
                            r"|please (?:call|try) (?:again )?later")
_SPACES = re.compile(r"[\s，。,.!！?？、:：;；\"'“”]+")


def match_announcement(text: str | None) -> str | None:
    """The carrier outcome a recognized opening states, or None (a person, a voicemail, noise).
    A bare "忙" or "通话中" counts only next to the carrier's own words ("您拨打的…"), so a person
    who says "我在忙" is not taken for an announcement."""
    if not text:
        return None
    t = _SPACES.sub(" ", text.lower()).strip()
    for wrong, right in _SOUNDALIKE:
        t = t.replace(wrong, right)
    zh = t.replace(" ", "")
    carrier = bool(_CARRIER_WORDS.search(t) or _CARRIER_WORDS.search(zh))
    for outcome, rx in _RULES:
        m = rx.search(zh) or rx.search(t)
        if m is None:
            continue
        weak = m.group(0) in ("忙", "通话中", "暂时无法", "无人接听", "关机", "停机")
        if weak and not carrier:
            continue
        return outcome
    return None


# ---------------------------------------------------------------- SIT tones
# Hand-written: the power at five fixed frequencies per 20 ms frame is the Goertzel algorithm's
# single-bin DFT, here as one small matrix product (160 x 5); an FFT library would compute 80
# bins to use five, and no maintained package detects SIT.
SIT_LOW, SIT_MID, SIT_HIGH = (913.8, 985.2), (1370.6, 1428.5), (1776.7,)
_FREQS = np.array([*SIT_LOW, *SIT_MID, *SIT_HIGH])
_BANDS = np.array([0, 0, 1, 1, 2])
FRAME = 160  # 20 ms at 8 kHz
_BASIS = np.exp(-2j * np.pi * np.outer(np.arange(FRAME), _FREQS) / RATE)  # FRAME x 5


def tone_of(frame: np.ndarray, min_level: float = 300.0) -> int | None:
    """The SIT band (0 low, 1 mid, 2 high) holding most of a 20 ms frame's energy, or None."""
    x = frame.astype(np.float64)
    energy = float(np.mean(x * x))  # a sine of amplitude A: A²/2
    if len(x) != FRAME or energy < min_level * min_level:
        return None
    power = 2.0 * np.abs(x @ _BASIS) ** 2 / (FRAME * FRAME)  # same scale: A²/2 at the tone's bin
    i = int(np.argmax(power))
    return int(_BANDS[i]) if power[i] >= 0.6 * energy else None


class SitDetector:
    """Feed 8 kHz 16-bit PCM; `.heard` turns True after a low, a mid and a high tone in that order,
    each at least `min_tone` seconds (a 274 ms SIT segment less a frame at each edge), with at
    most `max_gap` seconds of anything else between them."""

    def __init__(self, min_tone: float = 0.2, max_gap: float = 0.1) -> None:
        self.min_frames = max(1, round(min_tone * RATE / FRAME))
        self.max_gap = max(0, round(max_gap * RATE / FRAME))
        self.heard = False
        self._buf = b""
        self._runs: list[list] = []  # [band or None, frames], run-length coded, the last few only

    def feed(self, pcm: bytes) -> bool:
        self._buf += pcm
        step = FRAME * 2
        while len(self._buf) >= step and not self.heard:
            frame = np.frombuffer(self._buf[:step], dtype="<i2")
            self._buf = self._buf[step:]
            self._add(tone_of(frame))
        return self.heard

    def _add(self, band: int | None) -> None:
        if self._runs and self._runs[-1][0] == band:
            self._runs[-1][1] += 1
        else:
            self._runs.append([band, 1])
            del self._runs[:-12]
        if band == 2:
            self.heard = self._rising()

    def _rising(self) -> bool:
        tones = [(b, n) for b, n in self._runs if not (b is None and n <= self.max_gap)]
        merged: list[list] = []
        for b, n in tones:  # a short gap inside one tone joins its two halves
            if merged and merged[-1][0] == b:
                merged[-1][1] += n
            else:
                merged.append([b, n])
        last = merged[-3:]
        return [b for b, _ in last] == [0, 1, 2] and all(n >= self.min_frames for _, n in last)


def has_sit(pcm: bytes) -> bool:
    return SitDetector().feed(pcm)


Transcribe = Callable[[bytes, str], str]  # (8 kHz 16-bit PCM, locale) -> text


def classify(pcm: bytes, transcribe: Transcribe | None, locale: str) -> str | None:
    """The carrier outcome of a call's opening audio, or None. The words decide when they are
    understood; a SIT heard without words the grammar knows means the network could not
    complete the call (`unreachable`)."""
    sit = has_sit(pcm)
    if transcribe is not None:
        try:
            said = match_announcement(transcribe(pcm, locale))
        except Exception:  # a failed recognizer must not fail the call: the tone still decides
            said = None
        if said is not None:
            return said
    return UNREACHABLE if sit else None
