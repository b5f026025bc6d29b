"""Held-out answers (issue 22): phrasings residents use that no other test had, with what the desk
wants from each. `unsure` marks a value said with a hedge ("好像是绿码", "两三次", "probably
negative"): heard, but the dialog confirms it (bot.nlu.tentative) instead of storing it as sure."""

from __future__ import annotations

import pytest

from bot.nlu import hedged, parse, tentative

Z, E = "zh-CN", "en-US"
SURE, UNSURE, HEDGE = "sure", "unsure", "hedge"  # value sure / value to confirm / no value, a hedge

CASES = [
    # refusals, worded many ways (never a "no", never an address)
    (Z, "yes_no", "我 不 方便 说", None, "refuse", SURE),
    (Z, "address", "你们 凭 什么 问 这个", None, "refuse", SURE),
    (Z, "health_code", "不 想 回答", None, "refuse", SURE),
    (Z, "count", "挂 了 啊", None, "refuse", SURE),
    (Z, "yes_no", "这个 我 不 能 告诉 你", None, "refuse", SURE),
    (Z, "address", "住 哪 是 我 自己 的 事", None, "refuse", SURE),
    (Z, "test_result", "我 没 什么 好 跟 你 说 的", None, "refuse", SURE),
    (Z, "yes_no", "我 凭 什么 要 回答 你", None, "refuse", SURE),
    (Z, "count", "这 是 个人 隐私", None, "refuse", SURE),
    (Z, "health_code", "你 自己 去 查 啊", None, "refuse", SURE),
    (Z, "yes_no", "没空 没空", None, "refuse", SURE),
    (Z, "address", "不 告诉 你", None, "refuse", SURE),
    # a person, not the machine
    (Z, "yes_no", "找 你们 领导 来", None, "human", SURE),
    (Z, "address", "转 人工", None, "human", SURE),
    (Z, "health_code", "我 要 跟 真人 说", None, "human", SURE),
    (Z, "count", "让 你们 工作 人员 给 我 打", None, "human", SURE),
    (Z, "test_result", "叫 个 人 来 接 电话", None, "human", SURE),
    # "don't call again" (the dialog decides: listed person -> refusal; wrong number -> the list)
    (Z, "health_code", "以后 别 打 了", None, "do_not_call", SURE),
    (Z, "yes_no", "再 打 我 就 投诉", None, "do_not_call", SURE),
    (Z, "yes_no", "别 再 给 我 打 电话 了", None, "do_not_call", SURE),
    (Z, "address", "不要 再 打 过来 了", None, "do_not_call", SURE),
    (Z, "yes_no", "你 打错 了 以后 别 打 了", "no", "do_not_call", SURE),
    (Z, "yes_no", "我 不 认识 这个 人 别 再 打 了", "no", "do_not_call", SURE),
    (Z, "count", "你们 烦 不 烦 天天 打", None, "refuse", SURE),
    # hedges on a fact: the value, to be confirmed
    (Z, "health_code", "好像 是 绿 码", "green", None, UNSURE),
    (Z, "health_code", "应该 是 绿 码 吧", "green", None, UNSURE),
    (Z, "count", "大概 两 次 吧", 2, None, UNSURE),
    (Z, "yes_no", "好像 是 吧", "yes", None, UNSURE),
    (Z, "test_result", "应该 是 阴性 吧", "negative", None, UNSURE),
    (Z, "count", "可能 做 了 三 次", 3, None, UNSURE),
    (Z, "count", "做 了 四 五 次", 4, None, UNSURE),
    (Z, "count", "两三 次", 2, None, UNSURE),
    (Z, "count", "我 觉得 是 两 次", 2, None, UNSURE),
    (Z, "health_code", "我 也 说 不 准", None, None, HEDGE),
    (Z, "test_result", "不 太 清楚 结果", None, None, HEDGE),
    # questions back
    (Z, "yes_no", "你 是 谁 啊", None, "who", SURE),
    (Z, "yes_no", "你 怎么 有 我 电话", None, "who", SURE),
    (Z, "address", "你们 是 哪个 单位 的", None, "who", SURE),
    (Z, "yes_no", "你们 是 干 什么 的", None, "who", SURE),
    (Z, "health_code", "你 是 骗子 吧", None, "who", SURE),
    (Z, "yes_no", "谁 给 你 的 我 号码", None, "who", SURE),
    (Z, "yes_no", "我 凭 啥 相信 你", None, "who", SURE),
    # values: corrections, numbers with nouns and measure words, plain answers
    (Z, "count", "做 了 三 次 核酸", 3, None, SURE),
    (Z, "count", "三 回", 3, None, SURE),
    (Z, "count", "做 过 两 回", 2, None, SURE),
    (Z, "count", "一 次 都 没 做", 0, None, SURE),
    (Z, "count", "十三 次", 13, None, SURE),
    (Z, "count", "天天 都 做", None, None, SURE),
    (Z, "health_code", "原来 黄 码 现在 绿 了", "green", None, SURE),
    (Z, "health_code", "绿 的", "green", None, SURE),
    (Z, "test_result", "都 是 阴 的", "negative", None, SURE),
    (Z, "yes_no", "嗯 是 我 本人", "yes", None, SURE),
    (Z, "yes_no", "我 是 他 爱人", "no", None, SURE),
    (Z, "yes_no", "没 在 隔离", "no", None, SURE),
    (Z, "yes_no", "那 好 吧", "yes", None, SURE),
    (Z, "yes_no", "应该 的", "yes", None, SURE),
    (Z, "health_code", "不 可能 是 红 码 绿 码", "green", None, SURE),
    # annoyance at the identity question is a refusal, never a "no" (that would close a wrong number)
    (Z, "yes_no", "你 管 我 是 不 是", None, "refuse", SURE),
    (Z, "yes_no", "有 完 没 完", None, "refuse", SURE),
    (Z, "yes_no", "你 找 我 老公 啊 他 上班 去 了", "no", None, SURE),  # his wife answered
    (Z, "health_code", "我 没 有 健康 码 老年 人 不 用 手机", None, None, SURE),  # not a wrong number
    (Z, "yes_no", "这个 号 不 用 了", "no", "wrong_number", SURE),
    (Z, "yes_no", "我 不 跟 你 说 了", None, "refuse", SURE),
    (Z, "yes_no", "没 这 必要 吧", None, "refuse", SURE),
    (Z, "yes_no", "等 我 下班 再 说", None, "refuse", SURE),  # call back later, not "say again"
    (Z, "yes_no", "不 是 我 还 能 是 谁", "yes", None, SURE),  # "who else would it be"
    (Z, "count", "十 来 次", 10, None, UNSURE),
    (Z, "count", "两 三 回 吧", 2, None, UNSURE),
    (Z, "address", "我 不 方便 透露 住址", None, "refuse", SURE),
    (Z, "address", "你 问 这个 干 嘛", None, "who", SURE),
    # said at the identity question with 不/没 in it: none of them is a "no" (that closes a wrong number)
    (Z, "yes_no", "我 没 听 过 你们 这个 单位", None, "who", SURE),
    (Z, "yes_no", "不 太 想 说", None, "refuse", SURE),
    (Z, "yes_no", "不 用 了 谢谢", None, "refuse", SURE),
    (Z, "yes_no", "我 不 想 接 这种 电话", None, "refuse", SURE),
    (Z, "yes_no", "不 要 打扰 我", None, "refuse", SURE),
    (Z, "yes_no", "没 必要 吧", None, "refuse", SURE),
    (Z, "yes_no", "不 是 说 过 了 吗", None, None, SURE),
    (Z, "yes_no", "我 没 犯 什么 事 吧", None, "who", SURE),
    (Z, "yes_no", "我 不 信", None, "who", SURE),
    (Z, "yes_no", "不 会 是 骗子 吧", None, "who", SURE),  # not a "yes"
    (Z, "yes_no", "你 不 是 骗子 吧", None, "who", SURE),  # not a "no"
    (Z, "yes_no", "是 我 你们 不 是 骗子 吧", "yes", "who", SURE),
    (Z, "yes_no", "不 跟 机器 说 话", None, "human", SURE),
    # en-US
    (E, "yes_no", "not now", None, "refuse", SURE),  # never an identity "no"
    (E, "yes_no", "I don't think so", "no", None, UNSURE),  # an unsure "no": confirmed before a wrong number
    (E, "count", "once or twice", 1, None, UNSURE),
    (E, "yes_no", "what is this regarding", None, "who", SURE),
    (E, "yes_no", "quit calling this number", None, "do_not_call", SURE),
    (E, "yes_no", "he doesn't live here anymore", "no", "wrong_number", SURE),
    (E, "count", "a couple of times", 2, None, UNSURE),
    (E, "count", "three or four times", 3, None, UNSURE),
    (E, "yes_no", "put me through to someone", None, "human", SURE),
    (E, "yes_no", "yeah that's me, what's this about", "yes", "who", SURE),  # "about" is not "about two"
    (E, "yes_no", "I guess so", "yes", None, UNSURE),
    (E, "yes_no", "I'd rather not say", None, "refuse", SURE),
    (E, "health_code", "none of your business", None, "refuse", SURE),
    (E, "count", "I'm hanging up", None, "refuse", SURE),
    (E, "address", "why do you need to know that", None, "who", SURE),
    (E, "yes_no", "let me talk to a real person", None, "human", SURE),
    (E, "address", "get me your supervisor", None, "human", SURE),
    (E, "health_code", "don't call me again", None, "do_not_call", SURE),
    (E, "yes_no", "take me off your list", None, "do_not_call", SURE),
    (E, "count", "if you call again I'll report you", None, "do_not_call", SURE),
    (E, "yes_no", "wrong number, don't call again", "no", "do_not_call", SURE),
    (E, "health_code", "I think it's green", "green", None, UNSURE),
    (E, "test_result", "probably negative", "negative", None, UNSURE),
    (E, "count", "maybe two or three", 2, None, UNSURE),
    (E, "count", "about three times", 3, None, UNSURE),
    (E, "yes_no", "who is this", None, "who", SURE),
    (E, "yes_no", "how did you get my number", None, "who", SURE),
    (E, "count", "three times", 3, None, SURE),
    (E, "count", "twice", 2, None, SURE),
    (E, "count", "I didn't get tested", 0, None, SURE),
    (E, "health_code", "no wait, it's yellow", "yellow", None, SURE),
]


@pytest.mark.parametrize(("locale", "expect", "text", "value", "intent", "sure"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_heldout_answer(locale: str, expect: str, text: str, value, intent, sure: str):
    got = parse(locale, expect, text)
    assert (got.value, got.intent) == (value, intent)
    assert tentative(locale, text) == (sure == UNSURE), "a value said unsurely is confirmed, a sure one is not"
    assert hedged(locale, text) == (sure == HEDGE)


def test_there_are_enough_heldout_cases():
    assert len(CASES) >= 60


TRACING = [
    ("contacts", "我 妈 电话 一三八 一二三四 五六七八", [{"name": None, "relation": "parent", "phone": "+8613812345678"}]),
    ("contacts", "跟 我 同事 小 张 一起 他 手机 幺 三 九 零 九 三 一 二 二 三 三",
     [{"name": "小张", "relation": "colleague", "phone": "+8613909312233"}]),
    ("contacts", "我 老公 张 伟 一三九 零九三一 二二三三 还有 邻居 王 阿姨",
     [{"name": "张伟", "relation": "spouse", "phone": "+8613909312233"},
      {"name": "王阿姨", "relation": "neighbour", "phone": None}]),  # 王阿姨 is one neighbour, not a relative
    ("contacts", "跟 楼下 李 师傅 下 了 棋", [{"name": "李师傅", "relation": None, "phone": None}]),
    ("contacts", "和 朋友 李 强 吃 饭 了 电话 不 知道", [{"name": "李强", "relation": "friend", "phone": None}]),
    ("contacts", "我 不 认识 他们 名字", None),  # some people, not named: asked again, never "nobody"
    ("contacts", "跟 好 几 个 人 吃 饭 不 知道 叫 啥", None),  # 啥 is no name
    ("contacts", "没 接触 谁", []),
    ("places", "昨天 去 了 趟 医院 拿 药 下午 两 点 多", [{"place": "医院", "when": "昨天下午两点多"}]),
    ("places", "昨天 上午 去 了 东方红 广场", [{"place": "东方红广场", "when": "昨天上午"}]),
    ("places", "上 周六 去 过 西站 万达 下午 三 点 左右", [{"place": "西站万达", "when": "上周六下午三点左右"}]),
    ("places", "前天 晚上 在 正宁路 夜市 吃 的 饭 大概 八 点", [{"place": "正宁路夜市", "when": "前天晚上大概八点"}]),
    ("places", "十二 号 去 了 兰大 二院 看病", [{"place": "兰大二院", "when": "十二号"}]),
]


@pytest.mark.parametrize(("expect", "text", "value"), TRACING, ids=[t[1] for t in TRACING])
def test_heldout_tracing(expect: str, text: str, value):
    """Contacts with relation and phone said in groups; places with every time said, the time not in the place."""
    assert parse(Z, expect, text).value == value


@pytest.mark.parametrize("locale", [Z, E, "ko-KR"])
def test_the_unsure_check_never_raises(locale: str):
    """Whatever the recognizer gives ("十来次" once raised): a bool, never an error."""
    import random

    rng = random.Random(locale)
    alphabet = "一二两三四五六七八九十来次回遍个趟好像应该吧是码左右 aboutwo3or,.?"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert tentative(locale, text) in (True, False)
    assert tentative(Z, "做" * 100_000 + "两三次") in (True, False)
