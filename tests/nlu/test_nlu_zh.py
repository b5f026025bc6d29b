"""Mandarin answer understanding: the public examples, and the rules behind them."""

from __future__ import annotations

import itertools
import json

import pytest

from bot.nlu import Parse, grammar_phrases, parse
from bot.nlu.zh_numbers import to_int


def zh(expect: str, text: str) -> Parse:
    return parse("zh-CN", expect, text)


@pytest.mark.parametrize(
    ("expect", "text", "value", "intent"),
    [
        ("yes_no", "是 我", "yes", None),
        ("yes_no", "还 没 呢", "no", None),
        ("health_code", "绿 吗", "green", None),
        ("health_code", "黄 色", "yellow", None),
        ("count", "做 了 三 次", 3, None),
        ("count", "两 次", 2, None),
        ("test_result", "阴 性", "negative", None),
        ("yes_no", "你们 是 干嘛 的", None, "who"),
        ("yes_no", "我 不 想 回答", None, "refuse"),
        ("yes_no", "人工 服务", None, "human"),
        ("yes_no", "请 再说 一遍", None, "repeat"),
        ("yes_no", "不是 我 你 打错 了", "no", "wrong_number"),
    ],
)
def test_public_examples(expect, text, value, intent):
    assert zh(expect, text) == Parse(value, intent)


def test_public_address_example():
    value = zh("address", "住 在 安宁区 万新 路").value
    assert value["district"] == "安宁区"
    assert value["raw"] == "住 在 安宁区 万新 路"


@pytest.mark.parametrize("text", ["是我", "是 我", " 是  我 ", "是我。", "是，我"])
def test_spacing_and_punctuation_do_not_matter(text):
    assert zh("yes_no", text).value == "yes"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("之前黄码现在转绿了", "green"),
        ("不是红码是绿码", "green"),
        ("是 绿 码 不是 红 码", "green"),
        ("绿 码 之前 是 黄 码", "green"),
        ("昨天 还是 绿 码 今天 变 黄 了", "yellow"),
        ("红 码 哦 不 是 黄 码", "yellow"),
        ("不是 红 码", None),
    ],
)
def test_health_code_last_stated_and_not_negated_wins(text, value):
    assert zh("health_code", text).value == value


@pytest.mark.parametrize(("text", "value"), [("律 码", "green"), ("绿 马", "green"), ("皇 码", "yellow"), ("洪 码", "red")])
def test_health_code_homophones(text, value):
    assert zh("health_code", text).value == value


def test_a_homophone_without_a_code_word_is_not_a_colour():
    assert zh("health_code", "旅游 回来 了").value is None


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("零", 0), ("一", 1), ("两", 2), ("俩", 2), ("仨", 3), ("十", 10), ("十一", 11), ("二十", 20),
     ("二十一", 21), ("九十九", 99), ("一百零五", 105), ("21", 21), ("三四", 3)],
)
def test_numerals(numeral, value):
    assert to_int(numeral) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("做了两次不对三次", 3),
        ("没 做 过", 0),
        ("一 次 都 没 有", 0),
        ("三 天 前 做 了 一 次", 1),
        ("做 了 三 次 最后 一 次 是 阴 性", 3),
        ("三四 次", 3),
        ("好 几 次", None),
        ("做 了 一 下", None),
    ],
)
def test_counts(text, value):
    assert zh("count", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("音 性", "negative"), ("扬 性", "positive"), ("不是 阳 性", "negative"), ("没 问题", "negative"),
     ("在 等 结果", "pending"), ("还 在 等 哦 出来 了 是 阴 性", "negative"), ("不 知道", None),
     ("太阳 很 大", None)],
)
def test_test_results(text, value):
    assert zh("test_result", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("没 隔离", "no"), ("不 在 隔离", "no"), ("不是 在 隔离", "no"), ("在 家 隔离", "yes"), ("好的", "yes"),
     ("收到", "yes"), ("知道 了", "yes"), ("不 知道", None), ("这 是 我 的 隐私", None), ("嗯", "yes"),
     ("嗯 不是", "no"), ("喂 你好", None)],
)
def test_yes_no_negation_and_acknowledgement(text, value):
    assert zh("yes_no", text).value == value


def test_an_intent_phrase_is_not_read_as_an_answer():
    assert zh("yes_no", "我 不 想 回答") == Parse(None, "refuse")
    assert zh("count", "请 再说 一遍") == Parse(None, "repeat")


def test_free_text_keeps_the_cleaned_words():
    assert zh("text", "  我 家 门口   有 个 超市 ") == Parse("我 家 门口 有 个 超市", None)
    assert zh("text", "   ").value is None


def test_parse_is_json_ready():
    out = zh("address", "住 在 安宁区 万新 路").to_json()
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out


@pytest.mark.parametrize("expect", ["yes_no", "health_code", "count", "test_result"])
def test_every_grammar_phrase_is_understood(expect):
    phrases = grammar_phrases("zh-CN", expect)
    assert phrases and all(" " in p or len(p) <= 2 for p in phrases)
    missed = [p for p in phrases if p.replace(" ", "") != "不知道" and zh(expect, p) == Parse(None, None)]
    assert missed == []


def test_open_answers_have_no_grammar():
    assert grammar_phrases("zh-CN", "address") == []
    assert grammar_phrases("zh-CN", "text") == []


def test_unknown_expect_and_locale_are_clear_errors():
    with pytest.raises(ValueError, match="unknown expect"):
        parse("zh-CN", "colour", "绿")
    with pytest.raises(ValueError, match="no answer understanding"):
        parse("xx-YY", "yes_no", "ja")


@pytest.mark.parametrize("text", ["我 是 他 老婆", "我 是 她 妈妈", "是 他 儿子"])
def test_a_relative_answering_is_not_the_person(text):
    assert zh("yes_no", text).value == "no"


def test_no_time_to_get_tested_is_a_zero_count_not_a_refusal():
    assert zh("count", "没 时间 去 做") == Parse(0, None)


@pytest.mark.parametrize(("text", "value"), [("码 是 正常 的", "green"), ("没 问题 的", "green"), ("不 正常", None)])
def test_a_normal_health_code_is_green(text, value):
    assert zh("health_code", text).value == value


def test_a_question_back_is_not_an_answer():
    assert zh("yes_no", "需要 隔离 吗").value is None


def test_busy_is_a_refusal():
    assert zh("yes_no", "我 现在 很 忙") == Parse(None, "refuse")


def test_fillers_particles_and_spacing_around_answers():
    fillers, particles = ["", "嗯 ", "啊 ", "那个 ", "呃 ", "哦 ", "就是 "], ["", " 啊", " 呀", " 吧", " 呢", " 哈"]
    answers = [("yes_no", "是 我", "yes"), ("yes_no", "没 隔离", "no"), ("yes_no", "知道 了", "yes"),
               ("health_code", "律 码", "green"), ("count", "做 了 五 次", 5), ("count", "没 做 过", 0),
               ("test_result", "音 性", "negative"), ("test_result", "在 等 结果", "pending")]
    wrong = []
    for (expect, answer, want), f, p in itertools.product(answers, fillers, particles):
        for text in (f + answer + p, (f + answer + p).replace(" ", "")):
            if zh(expect, text) != Parse(want, None):
                wrong.append((text, want, zh(expect, text)))
    assert wrong == []


INTENT_EXAMPLES = [("你们 是 干嘛 的", "who"), ("哪里 打来 的", "who"), ("我 不 想 回答", "refuse"),
                   ("关 你 什么 事", "refuse"), ("人工 服务", "human"), ("找 你们 领导", "human"),
                   ("请 再说 一遍", "repeat"), ("没 听清", "repeat"), ("打错 了", "wrong_number"),
                   ("他 不 在 这 是 错 号", "wrong_number")]


@pytest.mark.parametrize("expect", ["yes_no", "health_code", "count", "test_result", "address"])
def test_intents_with_fillers_at_every_question_carry_no_value(expect):
    wrong = []
    for (phrase, intent), f, p in itertools.product(INTENT_EXAMPLES, ["", "嗯 ", "喂 ", "那个 "], ["", " 啊", " 呢"]):
        got = zh(expect, f + phrase + p)
        value_ok = got.value is None or (expect == "yes_no" and intent == "wrong_number")
        if got.intent != intent or not value_ok:
            wrong.append((f + phrase + p, got))
    assert wrong == []
