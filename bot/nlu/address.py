"""Chinese residence answers -> {raw, province, city, district, detail}.

"我 住 在 安宁区 万新 路" -> district 安宁区, inferred city 兰州市 and province 甘肃省 (the name is
unique in China). A district name found in several places (城关区: Lanzhou and Lhasa) is settled by
the province/city said before it, else by the default area passed in (`area=`; the [nlu]
default_province / default_city of the config, bound by `bot.nlu.make_parser`), else only the
district is given. When several districts are said, the last one wins
("以前 住 城关区 现在 搬 到 安宁区" -> 安宁区).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.nlu.gazetteer import town_place
from bot.nlu.regions import CITY, COUNTY, PROVINCE, Divisions, Region, divisions
from bot.nlu.soundalike import sound_mentions

FALLBACK_AREA = ("甘肃省", "兰州市")
# A place name directly followed by one of these is a street or an estate ("白银 路"), not a place.
_STREET = re.compile(r"(路|街|大街|大道|道|巷|弄|胡同|小区|花园|广场|桥|家园|苑|公寓|大厦|村)")
_TOWN = re.compile(r"(镇|乡|村|街道|社区|新区|区|县|市|州|湾|堡|口|山|河|湖)")
# "住 在 城关 那边", "安宁 这边 的 小区": a two-character district name said as a neighbourhood.
_NEAR_CUE = re.compile(r"(那边|这边|那块|这块|那一?带|这一?带|一带|附近|片区|那里|这里)")
_LEAD = re.compile(
    r"^(?:嗯|啊|呃|额|哦|噢|那个|就是|我的|我|家|现在|目前|现|是|的|地址|住址|住的地方|居住|住|在|到|于|搬)+"
)
_PUNCT = re.compile(r"[\s,.，。？?！!、；;：:\"'“”‘’()（）]+")


# Two-character district names that are also everyday words ("老城区", "西区"): only after a city.
_GENERIC = {"城区", "郊区", "矿区", "西区", "东区", "新县", "南县", "新区"}


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    regions: tuple[Region, ...]
    implied: bool = False  # a district said without 区/县, or heard by its sound only


Area = tuple[str | None, str | None]  # (province, city)


def default_area() -> Area:
    """(province, city) preferred when a district name is ambiguous and the caller passed no
    area: FALLBACK_AREA. Calls get the config's [nlu] area through their parser
    (`bot.nlu.make_parser`); nothing is read from a file or set for the process."""
    return FALLBACK_AREA


def mentions(compact: str, d: Divisions, area: tuple[str | None, str | None] = (None, None)) -> list[Mention]:
    """Leftmost-longest place names in `compact` (text without spaces)."""
    found: list[Mention] = []
    i, n = 0, len(compact)
    while i < n:
        for size in range(min(d.longest, n - i), 1, -1):
            name = compact[i : i + size]
            regions = d.find(name)
            if name in _GENERIC and not found:
                continue
            if regions and not _is_street(compact, i + size, regions, d):
                if _county_shares_last_char(compact, i, size, d):
                    continue  # "青岛市南区": 青岛 + 市南区, not 青岛市 + 南区
                found.append(Mention(i, i + size, tuple(regions)))
                i += size
                break
        else:
            stem = _stem_at(compact, i, d, bool(found), area)
            if stem:
                found.append(stem)
                i = stem.end
            else:
                i += 1
    return found


def _stem_at(
    compact: str, i: int, d: Divisions, after_place: bool, area: tuple[str | None, str | None]
) -> Mention | None:
    """A district said without 区/县 ("住 七里河 那边", "兰州 城关"): three or more characters, or two
    right after a city or province, or two said as a neighbourhood of the default area ("安宁 那边"
    in Lanzhou; "城东 那边" is just the east of town); never when a street, town or village follows."""
    for size in range(min(6, len(compact) - i), 1, -1):
        regions = d.stems.get(compact[i : i + size])
        if not regions:
            continue
        if size == 2 and not after_place:
            local = any(_named_within(r, name, d) for r in regions for name in area if name)
            lead = _LEAD.match(compact)
            at_start = i == (lead.end() if lead else 0)  # "西固 福利 区": the answer opens with it
            if not (local and (at_start or _NEAR_CUE.match(compact, i + size))):
                continue
        if _STREET.match(compact, i + size) or _TOWN.match(compact, i + size):
            continue
        return Mention(i, i + size, tuple(regions), implied=True)
    return None


def _county_shares_last_char(compact: str, i: int, size: int, d: Divisions) -> bool:
    """A city name ending in 市 whose 市 begins a district name of that city (市南区, 市中区, 市北区)."""
    name = compact[i : i + size]
    if name[-1] != "市" or not d.find(name[:-1]):
        return False
    start = i + size - 1
    for length in range(min(d.longest, len(compact) - start), 2, -1):
        counties = [r for r in d.find(compact[start : start + length]) if r.rank == COUNTY]
        if any(c.within(city) for c in counties for city in d.find(name)):
            return True
    return False


def _overlaps(mention: Mention, others: list[Mention]) -> bool:
    return any(mention.start < o.end and o.start < mention.end for o in others)


def _is_street(compact: str, end: int, regions: list[Region], d: Divisions) -> bool:
    if all(r.rank == COUNTY for r in regions) and compact[end - 1] in "区县旗":
        return False  # "安宁区" then "路" cannot be read as a street named after the district
    if not _STREET.match(compact, end):
        return False
    # "石家庄 桥西区": what follows is a district of its own, not "石家庄桥" (a bridge)
    return not any(
        r.rank == COUNTY for size in range(3, min(d.longest, len(compact) - end) + 1)
        for r in d.find(compact[end : end + size])
    )


def parse_address(text: str, area: tuple[str | None, str | None] | None = None) -> dict[str, Any] | None:
    raw = text.strip()  # kept as the recognizer gave it
    compact = _PUNCT.sub("", raw)
    if not compact:
        return None
    d = divisions()
    area = area or default_area()
    found = mentions(compact, d, area)
    if not any(r.rank == COUNTY for m in found for r in m.regions):
        heard = [Mention(*m, implied=True) for m in sound_mentions(compact, d)]
        found = sorted(found + [h for h in heard if not _overlaps(h, found)], key=lambda m: m.start)
    province, city, district = resolve(found, d, area)
    province_name, city_name = province.name if province else None, city.name if city else None
    if district is None:  # a town or street of the city settles it when one district has it (record22)
        town = town_place(compact, city_name or area[1])
        if town is not None and len(town[1]) == 1:
            district = town[1][0]
            city_name = city_name or area[1]
            province_name = province_name or (area[0] if city_name == area[1] else None)
    last_end = max((m.end for m in found), default=0)
    detail = compact[last_end:] if found else _LEAD.sub("", compact)
    return {
        "raw": raw,
        "province": province_name,
        "city": city_name,
        "district": district,
        "detail": detail or None,
    }


def resolve(
    found: list[Mention], d: Divisions, area: tuple[str | None, str | None]
) -> tuple[Region | None, Region | None, str | None]:
    counties = [m for m in found if any(r.rank == COUNTY for r in m.regions) and not _contradicted(m, found)]
    if counties:
        target = counties[-1]
        context = [r for m in found if m.start < target.start for r in m.regions if r.rank != COUNTY]
        options = [r for r in target.regions if r.rank == COUNTY]
        county = _choose(options, context, d, area)
        name = options[0].name
        if county is None:
            return None, None, name
        return d.province_of(county), d.city_of(county), county.name
    places = [r for m in found for r in m.regions]
    cities = [r for r in places if r.rank == CITY]
    provinces = [r for r in places if r.rank == PROVINCE]
    if cities:
        city = _choose(cities, provinces, d, area) or cities[-1]
        return d.province_of(city), city, None
    if provinces:
        return provinces[-1], None, None
    return None, None, None


def _contradicted(mention: Mention, found: list[Mention]) -> bool:
    """An implied district ("解放碑" -> 解放区) that lies outside the city or province said before it."""
    if not mention.implied:
        return False
    said = [r for m in found if m.end <= mention.start for r in m.regions if r.rank != COUNTY]
    if not said:
        return False
    return not any(o.within(r) for o in mention.regions for r in said)


def _choose(
    options: list[Region], context: list[Region], d: Divisions, area: tuple[str | None, str | None]
) -> Region | None:
    """The one option consistent with what was said before it, else with the default area."""
    # one place under a current and a former code (三元区 350403 / 350404): keep the first, current one
    options = list({(o.name, o.adcode[:4]): o for o in reversed(options)}.values())[::-1]
    if len(options) == 1:
        return options[0]
    for said in sorted(context, key=lambda r: -r.rank):  # the most specific place said first
        fitting = [o for o in options if o.within(said)]
        if len(fitting) == 1:
            return fitting[0]
        if fitting:
            options = fitting
    province, city = area
    for wanted in (city, province):
        if not wanted:
            continue
        fitting = [o for o in options if _named_within(o, wanted, d)]
        if len(fitting) == 1:
            return fitting[0]
    return None


def _named_within(region: Region, name: str, d: Divisions) -> bool:
    for parent in (d.city_of(region), d.province_of(region)):
        if parent is not None and parent.name == name:
            return True
    return False


def warm_up() -> None:
    """Load the division table and the district sound index now (≈0.6 s) instead of on the first call."""
    from bot.nlu.soundalike import _index

    _index(divisions())
