"""Toneless pinyin of Han text, per character (pypinyin): how speech is compared by sound, in the
Whisper listener's near misses (audio.whisper_sound) and the place names and relation words the NLU
corrects (bot.nlu.gazetteer). Here, the layer both may import (audio may not import bot)."""

from __future__ import annotations

from functools import lru_cache

Syllable = tuple[str, str, str]  # (syllable, initial, final), e.g. ("shi", "sh", "i"); ("an", "", "an")


def is_han(text: str) -> bool:
    """Every character a CJK unified ideograph (no digits, letters, spaces or punctuation)."""
    return all("\u4e00" <= c <= "\u9fff" for c in text)


@lru_cache(maxsize=4096)
def syllables_of(text: str) -> tuple[Syllable, ...]:
    """(syllable, initial, final) per Han character, toneless; () when the text has anything else."""
    from pypinyin import Style, lazy_pinyin

    if not text or not is_han(text):
        return ()
    chars = list(text)
    return tuple(zip(lazy_pinyin(chars), lazy_pinyin(chars, style=Style.INITIALS, strict=False),
                     lazy_pinyin(chars, style=Style.FINALS, strict=False), strict=True))
