"""A call code said aloud: the six digits a resident reads back when calling the official number
(bot/campaigns/inbound/call_codes.py), in Mandarin, English or Korean.

    read_code("我的核验码是七一零，二五六", "zh-CN")   # -> "710256"
    read_code("幺零二两五六", "zh-CN")                 # -> "102256"
    read_code("seven one oh two five six", "en-US")  # -> "710256"
    read_code("칠 일 공 이 오 육", "ko-KR")            # -> "710256"
    read_code("七一零二五", "zh-CN")                   # -> None: not six digits, asked again

The digit words are the NLU's own (bot.nlu.phones, which reads phone numbers said aloud, and the
Korean sino-numerals of bot.nlu.ko): one table of digit words per language, not a second one.
Runs of digits (digit words or the recognizer's arabic digits, in groups with pauses or commas
between) are joined; filler around them ("我的核验码是", "my code is") is ignored. A stray single
digit word outside the code ("我看一下", "이에요") is dropped only when that leaves exactly the
code's length. Anything else is no code (None): the caller is asked again, and no guess is counted.

`code_phrases(locale)` is the expected set a recognizer is given for the answer (a Vosk grammar:
the digit words; Whisper: the lead word names the question in its prompt, and its n-best are
judged by `read_code`, bot.pipeline.ears). Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata

from bot.nlu.ko import _SINO
from bot.nlu.phones import EN_DIGITS, ZH_DIGITS

KO_DIGITS = {w: str(v) for w, v in _SINO.items() if v < 10} | {"륙": "6"}
_ZH_RUN = re.compile(rf"[0-9{''.join(ZH_DIGITS)}](?:[\s，,、。.·\-－—]*[0-9{''.join(ZH_DIGITS)}])*")
_MULTIPLIERS = {"double": 2, "triple": 3}
# Whisper and Vosk write these for a spoken code; each names the question in a recognizer's prompt
LEADS = {"zh-CN": "核验码", "en-US": "code", "ko-KR": "코드"}
_GRAMMARS = {
    "zh-CN": [LEADS["zh-CN"], *ZH_DIGITS],
    "en-US": [LEADS["en-US"], *(w for w in EN_DIGITS if w != "o")],
    "ko-KR": [LEADS["ko-KR"], *KO_DIGITS],
}


def code_phrases(locale: str) -> list[str]:
    """The recognizer's expected set for a spoken code in `locale` ([] when it has no digit words)."""
    return list(_GRAMMARS.get(locale, []))


def grammar_locale(phrases: tuple[str, ...] | list[str]) -> str | None:
    """The locale whose `code_phrases` these are, else None (bot.pipeline.ears judges by it)."""
    return next((loc for loc, g in _GRAMMARS.items() if list(phrases) == g), None)


def read_code(text: str, locale: str, digits: int = 6) -> str | None:
    """The `digits`-digit code said in `text`, or None when it says no such code."""
    body = unicodedata.normalize("NFKC", text or "").lower()
    if locale.startswith("zh"):
        runs = ["".join(ZH_DIGITS.get(c, c) for c in m.group() if c.isdigit() or c in ZH_DIGITS)
                for m in _ZH_RUN.finditer(body)]
    elif locale.startswith("ko"):
        runs = _word_runs(body, lambda w: "".join(KO_DIGITS[c] for c in w) if all(c in KO_DIGITS for c in w)
                          else None)
    else:
        runs = _word_runs(body, lambda w: EN_DIGITS.get(w))
    for chosen in (runs, [r for r in runs if len(r) > 1]):
        code = "".join(chosen)
        if len(code) == digits:
            return code
    return None


def _word_runs(body: str, digit_of) -> list[str]:
    """Runs of consecutive digit words (or arabic digits), "double seven" as "77"."""
    runs: list[str] = []
    current, times = "", 1
    for word in re.findall(r"[0-9]+|[^\W\d_]+", body):
        value = word if word.isdigit() else digit_of(word)
        if value is None and word in _MULTIPLIERS:
            times = _MULTIPLIERS[word]
            continue
        if value is None:
            if current:
                runs.append(current)
            current, times = "", 1
            continue
        current += value[0] * times + value[1:] if times > 1 else value
        times = 1
    if current:
        runs.append(current)
    return runs
