"""Phrases a Vosk grammar should allow per question (zh-CN), words split as the Mandarin models
output them, plus the same phrases character by character. An empty list means an open answer
(address, free text): recognize without a grammar.
"""

from __future__ import annotations

_NUMERALS = ["零", "一", "两", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三",
             "十四", "十五", "十六", "十七", "十八", "十九", "二十", "三十", "俩", "仨"]

INTENT_PHRASES = [
    # who
    "你 是 谁", "你们 是 谁", "你们 是 干嘛 的", "你们 是 干 什么 的", "哪里 打来 的", "你们 是 哪个 单位",
    "你 是 哪里", "有 什么 事", "找 我 什么 事", "你 哪位", "你 找 谁", "你 是 骗子 吧",
    # refuse
    "我 不 想 回答", "不 方便 说", "凭 什么 告诉 你", "关 你 什么 事", "别 烦 我", "我 不 说", "不 告诉 你",
    "我 拒绝", "没 时间", "无可 奉告", "不 想 说",
    # human
    "人工 服务", "转 人工", "人工", "我 要 找 真人", "找 你们 领导", "真人", "找 人 说", "工作 人员", "客服",
    # repeat
    "请 再说 一遍", "再说 一遍", "没 听清", "你 说 什么", "重复 一下", "什么", "听 不 清", "没 听 清楚", "啥", "你 说 啥",
    # wrong_number
    "打错 了", "你 打错 了", "我 不 是 他", "我 不 是 她", "没有 这个 人", "他 不 在", "错 号",
]

_BY_EXPECT: dict[str, list[str]] = {
    "yes_no": [
        "是", "是 的", "是 我", "我 是", "我 就是", "就是 我", "是 本人", "对", "对 的", "对 啊", "没错", "嗯",
        "嗯 嗯", "好 的", "好", "行", "可以", "收到", "知道 了", "明白", "明白 了", "有", "在", "在 隔离",
        "不 是", "不 对", "不", "没有", "没 有", "没", "不 在", "没 隔离", "不 在 隔离", "没有 隔离",
        "还 没 呢", "还 没 有", "不 用", "不 知道", "是 滴", "对头", "晓得 了", "没 得", "莫得", "冇",
        "在 家 隔离", "居家 隔离", "集中 隔离", "没 在 隔离", "解除 了",
    ],
    "health_code": [
        f"{pre}{c} {suffix}".strip()
        for c in ("绿", "黄", "红")
        for pre in ("", "是 ")
        for suffix in ("码", "色", "的", "")
    ] + ["健康 码 是 绿 的", "不 知道"],
    "count": [f"{n} 次" for n in _NUMERALS] + [f"做 了 {n} 次" for n in _NUMERALS] + _NUMERALS + [
        "没 做 过", "没有", "没 做", "一 次 都 没 有", "一 次 也 没 做", "一 回", "两 回", "三 回", "一 遍",
        "没 得", "莫得",
    ],
    "test_result": [
        "阴 性", "阳 性", "阴性", "阳性", "是 阴 性", "是 阳 性", "阴 的", "还 没 出 结果", "在 等 结果",
        "还 没 出来", "结果 还 没 出来", "没 问题", "正常", "不 知道",
    ],
    "address": [],
    "text": [],
    # names, phone numbers and places are open answers: free decoding (a grammar of names would
    # drop every name not in it; "unknown expect 'contacts'" made the recognizer log and guess)
    "contacts": [],
    "places": [],
}


def phrases(expect: str) -> list[str]:
    base = _BY_EXPECT.get(expect)
    if base is None:
        raise ValueError(f"unknown expect {expect!r}")
    if not base:
        return []
    words = base + INTENT_PHRASES
    # Each phrase also split into single characters: a model whose lexicon lacks a word ("干嘛")
    # still has its characters, and the recognizer then writes them one by one.
    chars = [" ".join(p.replace(" ", "")) for p in words]
    return list(dict.fromkeys(words + chars))
