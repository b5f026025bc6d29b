"""Residence answers against the real administrative-division table (all of China)."""

from __future__ import annotations

import pytest

from bot.nlu import parse
from bot.nlu.address import parse_address
from bot.nlu.regions import COUNTY, divisions


def test_the_table_covers_all_of_china():
    d = divisions()
    assert len(d.provinces) == 34
    assert len(d.cities) > 300
    assert sum(1 for regions in d.names.values() for r in regions if r.rank == COUNTY) > 2800


@pytest.mark.parametrize(
    ("text", "province", "city", "district"),
    [
        ("住 在 安宁区 万新 路", "甘肃省", "兰州市", "安宁区"),
        ("安宁 区 万新 路", "甘肃省", "兰州市", "安宁区"),
        ("我 住 在 甘肃省 兰州市 七里河区 西津 西路", "甘肃省", "兰州市", "七里河区"),
        ("广州 天河区 体育 西路", "广东省", "广州市", "天河区"),
        ("上海 浦东新区 张江", "上海市", "上海市", "浦东新区"),
        ("新疆 乌鲁木齐 天山区", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
        ("湖北 仙桃 市", "湖北省", None, "仙桃市"),
        ("住 在 兰州", "甘肃省", "兰州市", None),
    ],
)
def test_divisions_are_found_and_completed(text, province, city, district):
    value = parse("zh-CN", "address", text).value
    assert (value["province"], value["city"], value["district"]) == (province, city, district)
    assert value["raw"] == text


def test_an_ambiguous_district_uses_what_was_said_before_it():
    value = parse_address("拉萨 城关区 北京 中路", area=("甘肃省", "兰州市"))
    assert (value["city"], value["district"]) == ("拉萨市", "城关区")


def test_an_ambiguous_district_falls_back_to_the_default_area():
    assert parse_address("城关区 白银 路", area=("甘肃省", "兰州市"))["city"] == "兰州市"
    assert parse_address("城关区 白银 路", area=("西藏自治区", "拉萨市"))["city"] == "拉萨市"
    unknown = parse_address("城关区 白银 路", area=(None, None))
    assert (unknown["district"], unknown["city"], unknown["province"]) == ("城关区", None, None)


def test_a_city_name_used_as_a_street_name_is_not_a_city():
    value = parse_address("城关区 白银 路", area=("甘肃省", "兰州市"))
    assert value["city"] == "兰州市" and value["detail"] == "白银路"


def test_the_last_district_said_wins():
    assert parse("zh-CN", "address", "以前 住 城关区 现在 搬 到 安宁 区").value["district"] == "安宁区"


def test_no_district_keeps_the_raw_text():
    value = parse("zh-CN", "address", "我 家 在 万新 路 二十 号").value
    assert value["raw"] == "我 家 在 万新 路 二十 号" and value["district"] is None


@pytest.mark.parametrize("text", ["", "嗯", "不 知道", "我 不 想 回答"])
def test_non_answers_are_null(text):
    assert parse("zh-CN", "address", text).value is None


def test_english_district():
    value = parse("en-US", "address", "I live at 12 Main Street in Chengguan District").value
    assert value["district"] == "Chengguan District"
    assert value["raw"] == "I live at 12 Main Street in Chengguan District"


def test_the_most_specific_place_said_settles_an_ambiguous_district():
    value = parse_address("山西 阳泉 城区", area=("甘肃省", "兰州市"))
    assert (value["province"], value["city"], value["district"]) == ("山西省", "阳泉市", "城区")


def test_an_everyday_word_is_not_a_district_without_a_city():
    assert parse_address("我 住 西区 那边", area=(None, None))["district"] is None


@pytest.mark.parametrize(
    ("text", "district", "city"),
    [("住 在 安宁 去 万新 路", "安宁区", "兰州市"), ("七里 和 区", "七里河区", "兰州市"), ("西 故 区", "西固区", "兰州市"),
     ("拉萨 城 管 区", "城关区", "拉萨市")],
)
def test_a_district_heard_as_homophones_is_found_by_sound(text, district, city):
    value = parse_address(text, area=("甘肃省", "兰州市"))
    assert (value["district"], value["city"]) == (district, city)


@pytest.mark.parametrize("text", ["住 在 一 线 城市", "他 们 去 上班 了", "我 家 在 万新 路 二十 号"])
def test_everyday_words_do_not_sound_like_districts(text):
    assert parse_address(text, area=("甘肃省", "兰州市"))["district"] is None


@pytest.mark.parametrize(
    ("text", "district", "city"),
    [("住 七里河 那边", "七里河区", "兰州市"), ("在 兰州 城关", "城关区", "兰州市"), ("白银 平川", "平川区", "白银市"),
     ("我 住 在 安宁 那边", "安宁区", "兰州市"), ("住 在 城关 这边", "城关区", "兰州市")],
)
def test_a_district_said_without_its_suffix(text, district, city):
    value = parse_address(text, area=("甘肃省", "兰州市"))
    assert (value["district"], value["city"]) == (district, city)


# Two characters said as a neighbourhood count only where the default area has that district:
# in Lanzhou "城东 那边" is the east of town, "和平 那边" is not Tianjin's 和平区.
# (和平镇 itself is a town of 榆中县: tests/nlu/test_nlu_towns.py)
@pytest.mark.parametrize("text", ["住 在 和平 村", "住 在 城东 那边", "在 和平 那边", "生活 很 安宁"])
def test_a_short_everyday_stem_alone_is_not_a_district(text):
    assert parse_address(text, area=("甘肃省", "兰州市"))["district"] is None


def test_the_default_area_is_passed_in_not_read_from_the_current_directory(tmp_path, monkeypatch):
    from bot.nlu import make_parser

    (tmp_path / "config.toml").write_text('[nlu]\ndefault_province = "西藏自治区"\ndefault_city = "拉萨市"\n')
    monkeypatch.chdir(tmp_path)  # a config file in the current directory changes nothing
    assert parse("zh-CN", "address", "城关区 白银 路").value["city"] == "兰州市"
    lhasa = make_parser("西藏自治区", "拉萨市")
    assert lhasa("zh-CN", "address", "城关区 北京 中路").value["city"] == "拉萨市"
    assert lhasa("zh-CN", "yes_no", "是 的").value == "yes"
    assert parse("zh-CN", "address", "城关区 北京 中路", area=("西藏自治区", "拉萨市")).value["city"] == "拉萨市"
    assert make_parser()("zh-CN", "address", "城关区 白银 路").value["city"] == "兰州市"
    assert make_parser(None, None)("zh-CN", "address", "城关区 白银 路").value["city"] is None  # no area: as said


@pytest.mark.parametrize(
    ("text", "district", "city"),
    [
        ("大同 平城 区", "平城区", "大同市"),  # created 2018
        ("杭州 临平 区", "临平区", "杭州市"),  # created 2021
        ("成都 郫都 区", "郫都区", "成都市"),  # 郫县 until 2016
        ("许昌 县", "许昌县", "许昌市"),  # abolished 2016, still said by callers
        ("甘肃 临夏 州 东乡 县", "东乡族自治县", "临夏回族自治州"),  # autonomous county by its place name
        ("内蒙古 鄂温克 旗", "鄂温克族自治旗", "呼伦贝尔市"),
    ],
)
def test_current_and_former_divisions_and_autonomous_counties(text, district, city):
    value = parse_address(text, area=("甘肃省", "兰州市"))
    assert (value["district"], value["city"]) == (district, city)


def test_every_district_of_china_is_found_after_its_city():
    """'住 在 <city> <district> 人民 路' for every current district: the district and its city come back."""
    from bot.nlu.regions import _CITY_SUFFIX

    d = divisions()
    misses, total = [], 0
    for regions in d.names.values():
        for region in regions:
            city = d.city_of(region)
            if region.rank != COUNTY or city is None or region.name in ("城区", "郊区", "矿区", "东区", "西区"):
                continue
            total += 1
            text = f"住 在 {_CITY_SUFFIX.sub('', city.name) or city.name} {region.name} 人民 路"
            value = parse_address(text, area=("甘肃省", "兰州市"))
            if (value["district"], value["city"]) != (region.name, city.name):
                misses.append(f"{text}: {value['district']} {value['city']}")
    assert total > 3000
    assert len(misses) <= 0.005 * total, "\n".join(misses)
