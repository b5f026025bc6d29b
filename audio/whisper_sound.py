"""A closed question's expected answers matched by sound: which expected phrase a Whisper
hypothesis is a near miss of (toneless pinyin from pypinyin, the library bot.nlu.gazetteer uses
for place names). Whisper base on 8 kHz speech often gets one syllable of a short answer wrong
while keeping its initial (是的 shi-de heard as 是等 shi-deng) or writes a homophone (时 for 是):
such a hypothesis is that phrase, when no phrase of another meaning is as near."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from audio.pinyin import syllables_of

MIN_SYLLABLES = 2  # one-syllable answers are too easily near each other (是/十/四) to be matched by sound


def distance(heard: str, phrase: str) -> float | None:
    """0 for the same sounds, 0.5 for one syllable off that keeps its initial or its final (是等
    shi-deng for 是的 shi-de, 错了两次 cuo- for 做了两次 zuo-; in a two-syllable answer the first
    must be right), None when not near."""
    a, b = syllables_of(heard), syllables_of(phrase)
    if len(a) != len(b) or len(a) < MIN_SYLLABLES:
        return None
    off = [(x, y) for x, y in zip(a, b, strict=True) if x[0] != y[0]]
    if not off:
        return 0.0
    if len(off) != 1 or (len(a) == 2 and a[0][0] != b[0][0]):
        return None
    x, y = off[0]
    return 0.5 if (x[1] and x[1] == y[1]) or (x[2] and x[2] == y[2]) else None


def sounds_like(heard: str, phrases: Iterable[str], judge: Callable[[str], object]) -> str | None:
    """The expected phrase `heard` is (word for word or) a near miss of, when every phrase as
    near means the same (`judge`); None otherwise. `phrases` in the grammar's order."""
    near: list[tuple[float, str]] = []
    for p in phrases:
        d = 0.0 if p == heard else distance(heard, p)
        if d is not None:
            near.append((d, p))
    if not near:
        return None
    best = min(d for d, _ in near)
    tied = [p for d, p in near if d == best]  # in the grammar's order: its usual form first (是的 before 是滴)
    keys = {repr(judge(p)) for p in tied}
    return tied[0] if len(keys) == 1 and judge(tied[0]) is not None else None


def resembles(heard: str, phrase: str) -> bool:
    """As many syllables, the first the same (每日 mei-ri and 没有 mei-you): a hypothesis that means
    nothing and resembles an expected phrase ranked below it is a mishearing of it, not other words."""
    a, b = syllables_of(heard), syllables_of(phrase)
    return len(a) == len(b) >= MIN_SYLLABLES and a[0][0] == b[0][0]


def syllables_off(heard: str, name: str) -> int | None:
    """How many syllables of `heard` differ from `name` (toneless); None when not as many."""
    a, b = syllables_of(heard), syllables_of(name)
    return sum(x[0] != y[0] for x, y in zip(a, b, strict=True)) if a and len(a) == len(b) else None
