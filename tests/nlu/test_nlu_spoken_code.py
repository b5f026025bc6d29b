"""A call code said back (issue 25 item 2): the six digits read from what the recognizer wrote,
in many Mandarin wordings first ("幺" for 1, "两" for 2, groups, filler, Whisper's arabic digits
and dashes), then English and Korean; anything that is not exactly six digits is no code (asked
again, no guess counted). The Whisper ear judges its n-best by the same reading."""

from __future__ import annotations

import pytest

from bot.nlu.spoken_code import code_phrases, grammar_locale, read_code
from bot.pipeline.ears import one_per_value, understood

ZH = [
    ("七一零二五六", "710256"),
    ("七一零，二五六", "710256"),
    ("七一零 二五六", "710256"),
    ("七幺零二五六", "710256"),  # 幺 for 1, as phone numbers are read
    ("幺零二两五六", "102256"),  # 两 for 2
    ("我的核验码是七一零二五六", "710256"),
    ("我的核验码是：七一零、二五六。", "710256"),
    ("核验码是四七二，幺零九", "472109"),
    ("嗯，三八九，零零四", "389004"),
    ("嗯，三八九，然后是零零四", "389004"),  # words between the groups
    ("我看一下，七一零二五六", "710256"),  # a stray 一 outside the code
    ("是七一零二五六吧", "710256"),
    ("洞拐洞两五六", "070256"),  # radio-style digits
    ("710256", "710256"),  # as Whisper writes digits
    ("710-256", "710256"),
    ("7-1-0-2-5-6", "710256"),
    ("我的核验码是587 148", "587148"),
    ("４７２１０９", "472109"),  # full-width digits
    ("喷,389,004。", "389004"),
    ("七 一 零 二 五 六", "710256"),
]
ZH_NONE = ["七一零二五", "七一零二五六八", "我不知道", "", "核验码", "喂", "一二三四五六七八九", "十七二五六八",
           "核验码1472109", "我的核验码是4x109。"]


@pytest.mark.parametrize(("text", "code"), ZH)
def test_mandarin_wordings_give_the_code(text: str, code: str) -> None:
    assert read_code(text, "zh-CN") == code


@pytest.mark.parametrize("text", ZH_NONE)
def test_no_six_digits_is_no_code(text: str) -> None:
    assert read_code(text, "zh-CN") is None


@pytest.mark.parametrize(("text", "code"), [
    ("seven one zero two five six", "710256"),
    ("my code is seven one oh two five six", "710256"),
    ("it's 710 256", "710256"),
    ("four seven two, one zero nine", "472109"),
    ("double seven one two five six", "771256"),
    ("five five triple five six", "555556"),
    ("uh one moment, seven one zero two five six", "710256"),
])
def test_english_wordings(text: str, code: str) -> None:
    assert read_code(text, "en-US") == code


@pytest.mark.parametrize(("text", "code"), [
    ("칠 일 공 이 오 육", "710256"),
    ("칠일공 이오육", "710256"),
    ("제 번호는 사칠이 일영구 이에요", "472109"),
    ("710256", "710256"),
])
def test_korean_wordings(text: str, code: str) -> None:
    assert read_code(text, "ko-KR") == code


def test_english_and_korean_without_six_digits() -> None:
    assert read_code("seven one zero two five", "en-US") is None
    assert read_code("I don't have it", "en-US") is None
    assert read_code("모르겠어요", "ko-KR") is None


def test_other_lengths() -> None:
    assert read_code("四七二幺", "zh-CN", digits=4) == "4721"
    assert read_code("四七二幺", "zh-CN") is None


def test_the_expected_set_names_the_digit_words_of_the_locale() -> None:
    zh = code_phrases("zh-CN")
    assert {"零", "一", "幺", "两", "九"} <= set(zh) and grammar_locale(zh) == "zh-CN"
    assert {"zero", "oh", "nine"} <= set(code_phrases("en-US")) and grammar_locale(code_phrases("en-US")) == "en-US"
    assert {"공", "일", "구"} <= set(code_phrases("ko-KR"))
    assert code_phrases("fr-FR") == [] and grammar_locale(["是", "不是"]) is None


def test_whisper_judges_its_n_best_by_the_code() -> None:
    """The n-best hypothesis that says six digits is the one taken; the prompt names the question
    (核验码), never digits Whisper would recite when unsure."""
    phrases = tuple(code_phrases("zh-CN"))
    assert understood(phrases, "我的核验码是七一零，二五六") == "710256"
    assert understood(phrases, "七一零二五") is None
    assert one_per_value(list(phrases)) == ["核验码"]
