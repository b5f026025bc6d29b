"""China's administrative divisions (province / prefecture city / county-level district), for addresses.

The data is the adcode table that ships with the maintained `cpca` package (all of China,
3,500 divisions). We read its CSV directly instead of importing `cpca`, which would pull in
pandas at start-up; the file is located without executing the package and loaded once.
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


def table_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RegionDataError("the cpca package (administrative divisions) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    if not path.is_file():
        raise RegionDataError(f"administrative-division table not found at {path}")
    return path


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """Load the table once; later calls return the same object."""
    rows: list[tuple[str, str]] = []
    with table_path().open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append((row["adcode"][:6], row["name"].strip()))
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
