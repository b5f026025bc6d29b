"""The area's district names matched by sound (bot.nlu.gazetteer): what Whisper base wrote for
Lanzhou's counties on synthetic phone audio is put right, a near match is marked for reading
back, and everyday words and other places are left alone."""

from __future__ import annotations

import pytest

from bot import nlu
from bot.nlu.gazetteer import correct, place_names

LANZHOU = ("城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区")


def test_every_district_and_county_of_lanzhou_and_the_new_area():
    assert set(place_names("兰州市")) == set(LANZHOU)
    assert set(place_names("兰州")) == set(LANZHOU)
    assert place_names(None) == () and place_names("不存在市") == ()


@pytest.mark.parametrize(("heard", "fixed", "exact"), [
    ("宇宙县", "榆中县", False),
    ("高满贤", "皋兰县", False),
    ("有登陷", "永登县", False),
    ("高满信", "皋兰县", False),
    ("七固区、福利度", "西固区、福利度", False),
    ("兰州市汽里河区、东黄路", "兰州市七里河区、东黄路", True),
    ("住在七里河去", "住在七里河区", True),
])
def test_sound_alikes_become_the_district(heard, fixed, exact):
    found = correct(heard, "兰州市")
    assert (found.text, found.exact) == (fixed, exact)
    assert nlu.parse("zh-CN", "address", found.text).value["district"] == found.name


@pytest.mark.parametrize("text", ["城关区东港街道", "今天去", "一起去", "我不知道", "", "北京市海淀区"])
def test_other_words_are_left_alone(text):
    assert correct(text, "兰州市").text == text
    assert correct(text, "兰州市").heard == ""


def test_a_district_named_as_written_is_reported():
    found = correct("我住在城关区东港街道", "兰州市")
    assert (found.text, found.heard, found.name) == ("我住在城关区东港街道", "", "城关区")


def test_relation_words_written_by_sound_become_the_word():
    from bot.nlu.gazetteer import relation_words

    assert relation_words("我同是李明，电话是一三九") == "我同事李明，电话是一三九"
    assert nlu.parse("zh-CN", "contacts", relation_words("我同是李明，电话是13909312233")).value[0]["relation"] == "colleague"
    for text in ("我老婆", "今天天气不错", "我住在城关区"):
        assert relation_words(text) == text


def test_place_names_whisper_and_relation_words_compare_sounds_by_one_pinyin_function():
    """One toneless pinyin (audio.pinyin, the layer both may import): the Whisper listener's near misses
    and the gazetteer's corrections cannot drift apart (they were two copies)."""
    from audio import pinyin, whisper_sound
    from bot.nlu import gazetteer

    assert whisper_sound.syllables_of is pinyin.syllables_of is gazetteer.syllables_of
    assert not hasattr(gazetteer, "_pinyin")
    assert pinyin.syllables_of("是的") == (("shi", "sh", "i"), ("de", "d", "e"))
    assert pinyin.syllables_of("是的2") == () and pinyin.syllables_of("") == ()
    # windows with a digit or a letter are skipped, a Han window next to them still corrected
    assert correct("3号宇宙县", "兰州市").text == "3号榆中县"
    assert correct("ab县", "兰州市").text == "ab县"
