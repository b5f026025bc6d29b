"""District names heard as homophones: "安宁 去" / "安 凝 区" -> 安宁区.

Recognizers write a rare place name with other characters that sound the same. When no district
is found by its characters, the answer is compared with every district name by toneless pinyin.
Only names of three or more syllables ending in 区/县 take part (shorter names match everyday words
too easily). pypinyin and the sound index load on first use (about 0.6 s), then a lookup costs
well under a millisecond.
"""

from __future__ import annotations

from functools import lru_cache

from bot.nlu.regions import COUNTY, Divisions, Region

MIN_SYLLABLES = 3


def _syllables(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(list(text)))  # one syllable per character, so positions line up


@lru_cache(maxsize=1)
def _index(d: Divisions) -> tuple[dict[tuple[str, ...], list[Region]], int]:
    index: dict[tuple[str, ...], list[Region]] = {}
    for name, regions in d.names.items():
        counties = [r for r in regions if r.rank == COUNTY]
        if counties and len(name) >= MIN_SYLLABLES and name[-1] in "区县":
            index.setdefault(_syllables(name), []).extend(counties)
    return index, max((len(k) for k in index), default=0)


def sound_mentions(compact: str, d: Divisions) -> list[tuple[int, int, tuple[Region, ...]]]:
    """(start, end, regions) of district names that sound like part of `compact`, leftmost-longest."""
    if len(compact) < MIN_SYLLABLES:
        return []
    index, longest = _index(d)
    sounds = _syllables(compact)
    found = []
    i = 0
    while i < len(sounds):
        for size in range(min(longest, len(sounds) - i), MIN_SYLLABLES - 1, -1):
            regions = index.get(sounds[i : i + size])
            if regions:
                found.append((i, i + size, tuple(regions)))
                i += size
                break
        else:
            i += 1
    return found
