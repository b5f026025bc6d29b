"""End of turn by meaning, for the listener (bot/pipeline/listener.py): the rule and its cost.

The rule is the dialog's (`Listen.complete`, bot/dialog/initiative.py): once the caller is
silent and the words heard so far already answer the question, a short silence ends the turn
(`end_silence_complete`, 0.15 s in the shipped scripts) instead of the full `end_silence`. The
words come from the recognizer's `settle()` at the caller's pause (~80 ms of non-speech by the
VAD), one rule for every engine.

What a pause's words cost differs by engine. Vosk decodes as the audio comes: settling is one
FinalResult (a few ms), done at every pause. Whisper has no partial words: its settle() decodes
the whole turn so far (the fitted window, audio.whisper_phone), and finish() reuses that decoding
when nothing was said after the pause, so a turn with one pause costs one decoding either way; a
pause the caller talks through costs a decoding more. (A pause's decoding also has the answer ready
when the turn ends, whether or not it was complete: the final result is not waited for after the
silence.) For such recognizers (`hears_after_settle`) a pause is decoded only when it can pay off
(`worth_judging`):
- at most one in flight per call (a second pause meanwhile is not decoded: the turn's end is);
- none when the recognition pool is behind by more than the early end would save (the full
  silence, without `end_silence_complete`): its words would come back after the full silence had
  ended the turn anyway, and a pause the caller talks through would be one more decoding queued;
- none for a turn with too little voiced audio to be a word, or longer than `MAX_SECONDS`
  (a story, not a short answer: its decoding grows with it)."""

from __future__ import annotations

import logging
import re
from collections import Counter

from audio.recognizer import voiced_seconds

log = logging.getLogger(__name__)

RATE = 8000
MIN_VOICED = 0.1  # s of voiced audio below which a turn holds no word worth a decoding (audio.whisper: < 0.1 s is nothing)
MAX_SECONDS = 8.0  # s of turn beyond which a pause is not judged by a whole-turn decoder
_BARE_NUMERAL = re.compile(r"[零一二两三四五六七八九十0-9]")
_MARKS = re.compile(r"[\s，,。.、？?！!；;]+")
# This process's turns (for benchmarks/call_load.py): "turns" ended, "by_meaning" of them,
# pauses "decoded" and "skipped" (worth_judging said no).
COUNTS: Counter[str] = Counter()


def complete(listen, text: str, whole: bool = False) -> bool | None:
    """Whether `text` (the words at the caller's pause) already answers `listen`'s question; None
    when the question has no rule (no `complete` or no `end_silence_complete`). A count that is one
    bare numeral is not yet complete: "是……两次" paused after 是 was heard as 四 (Whisper base, 3 of 4
    simulated speakers), and residents say the measure word (两次, 做了三次); it waits the full silence.
    `whole` (a recognizer that decodes the whole turn at a pause, `whole_turn`): only words giving the
    question a value are complete; a request or refusal alone waits the full silence (做了 heard as
    再来, "again", at 0.2-0.4: it ended a count's turn mid-answer)."""
    rule = getattr(listen, "complete", None)
    if rule is None or getattr(listen, "end_silence_complete", None) is None:
        return None
    if (getattr(listen, "expect", None) == "count" and str(getattr(listen, "locale", "")).startswith("zh")
            and _BARE_NUMERAL.fullmatch(_MARKS.sub("", text or ""))):
        return False
    try:
        if whole and text and _no_value(listen, text):
            return False
        return bool(text) and bool(rule(text))
    except Exception:  # understanding failed: wait the full silence, as without the seam
        log.exception("end-of-turn check failed at step %s", getattr(listen, "step", None))
        return False


def _no_value(listen, text: str) -> bool:
    from bot import nlu

    expect, locale = getattr(listen, "expect", None), getattr(listen, "locale", None)
    if not expect or not locale or expect == "text":
        return False
    return nlu.parse(locale, expect, text).value is None


def whole_turn(recognizer) -> bool:
    """A recognizer whose settle() decodes the whole turn again (Whisper), not the Vosk way."""
    return bool(getattr(recognizer, "hears_after_settle", False))


def worth_judging(recognizer, pool, listen, turn: bytes, in_flight: bool) -> bool:
    """Whether to have this pause's words decoded and judged (see the module's text); `turn`: the
    turn's audio so far (8 kHz PCM), `in_flight`: a pause of this call is still being decoded."""
    if not whole_turn(recognizer):
        return True  # Vosk: a few ms, always
    if in_flight:
        return False
    if len(turn) > MAX_SECONDS * RATE * 2 or voiced_seconds(turn, RATE) < MIN_VOICED:
        return False
    full = getattr(listen, "end_silence", None) or 0.8
    short = getattr(listen, "end_silence_complete", None)
    return pool.final_wait() < (full - short if short is not None else full)
