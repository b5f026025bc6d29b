"""Mandarin (zh-CN) answer understanding over Vosk-style output ("是 我", "绿 码", "做 了 三 次").

Matching runs on the compact text (spaces and punctuation removed). Intent phrases are found
first and blanked out, so the "不" of "我 不 想 回答" is not read as a "no". Within what is left,
the last stated value wins (self-corrections: "不是红码是绿码" -> green, "之前黄码现在转绿了" ->
green), a negated mention does not count ("不是 红 码"), and recognizer homophones are accepted
where they are unambiguous (绿/律/率 + 码/马/吗, 阴性/音性/因性, 阳性/扬性/羊性).

Decisions: "没问题"/"正常"/"没事" at test_result mean negative (the result was fine); "有问题"/
"确诊"/"感染" mean positive; "还没出"/"在等" mean pending. Acknowledgements ("好的", "收到",
"知道了", "明白") are "yes". A health code that is "正常"/"没问题" (normal) is green. Counts: see zh_numbers.
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu import zh_tracing
from bot.nlu.address import parse_address
from bot.nlu.base import Heard
from bot.nlu.text import blank_spans, clean, compact
from bot.nlu.zh_grammar import phrases
from bot.nlu.zh_intents import find_intents
from bot.nlu.zh_numbers import parse_count

YES, NO = "yes", "no"
_YES = ("是 是的 是啊 是呀 是滴 是我 我是 我就是 就是我 本人 是本人 我本人 也是 都是 对 对的 对啊 对呀 对头 绝对 没错 "
        "没问题 没毛病 不错 正确 好 好的 好吧 好嘞 好啊 行 行的 可以 收到 知道 知道了 明白 明白了 了解 懂了 清楚了 记住了 "
        "当然 肯定 确实 确定 嗯哪 有的 有啊 在的 在呢 正在 隔离了 隔离中 隔离着 在隔离 要得 得嘞 会的 一定 "
        "遵守 配合 注意 会注意 照办 照做 ok okay yes yeah 嗯对 嗯是 晓得 晓得了 晓得嘞 懂 懂得 是嘞 对喽 对咯 嗯呐 "
        "是得嘞 应该的 不是我还能是谁 还能是谁 除了我还能有谁")
_WEAK_YES = "在 有 嗯 嗯嗯 嗯嗯嗯 恩 哦 噢 喔 就是 应该是 好像是 可能是 大概是 算是 隔离 居家 集中"
_NO = ("解除隔离 结束隔离 隔离结束 隔离完 隔离完了 隔离期满 出隔离 不隔离 不用隔离 解除了 "
       "不 不是 不对 不行 不好 不可以 不能 没 没有 没在 不在 未 否 错了 不用 不要 不需要 不必 没必要 还没 还没有 "
       "没呢 解除 结束 解封 并没有 不曾 从没 从来没有 没隔离 no nope 没得 莫得 冇 冇得 冇有 木有 没得事 没得隔离")
_NEUTRAL = ("不知道 不清楚 不太清楚 不确定 不记得 记不清 忘了 不好说 说不好 说不清 是不是 对不对 是吗 真的吗 有没有 "
            "在不在 好不好 行不行 可不可以 能不能")
# Words that only contain a polarity character ("现在" is not "在", "这是" is a copula): matched and skipped.
_SKIP = ("不错 不相信 不信 不是说过 对不起 不好意思 没事 没关系 现在 实在 存在 你好 您好 还好 好像 好几 最好 但是 可是 还是 要是 只是 总是 于是 倒是 "
         "不过 银行 进行 旅行 行程 对面 对方 所在 这是 那是 就是说 是这样 是哪 是谁 是什么")
_POLARITY: dict[str, tuple[str | None, bool]] = {}
# "我 是 他 老婆": someone else answered the phone -> no.
_RELATIVE = re.compile(
    r"找(的是)?我的?(老公|丈夫|老婆|妻子|爱人|媳妇|爸爸|爸|妈妈|妈|父亲|母亲|儿子|女儿|孩子)|"
    r"(他|她)是我的?(儿子|女儿|孩子|丈夫|老公|妻子|老婆|爱人|爸爸|爸|妈妈|妈|父亲|母亲|哥哥|姐姐|弟弟|妹妹|朋友|同事|室友)|"
    r"(我是|是)(他|她)的?(老婆|妻子|爱人|媳妇|丈夫|老公|妈妈|妈|母亲|爸爸|爸|父亲|儿子|女儿|孩子|家人|家属|亲戚|朋友|同事|"
    r"哥哥|哥|姐姐|姐|弟弟|弟|妹妹|妹|奶奶|爷爷|外婆|姥姥|外公|姥爷|孙子|孙女|室友|邻居|领导|男朋友|女朋友|对象)"
)
# Other facts said along the way ("没有 隔离 我 是 绿 码"): their 是 is a copula, not a yes.
_OTHER_FACT = re.compile(r"(我|我的|码|健康码|结果)?(是|都是)?([绿黄红](码|马|色的?|的)|[阴阳]性)")
# Promises to do what the notice asks ("不 出门", "不 会 出去", "不 聚会") contain a negation but agree.
_COMPLY = re.compile(r"(不|不会|不再|绝不|不要)(再)?(出门|出去|外出|乱跑|乱走|走动|串门|聚会|聚餐|聚集|离开|出家门|出小区|去人多)")
_QUESTION = re.compile(r"(吗|么|嘛|呢吗)(啊|呀|吧)*$")
_SKIP_VALUE = "skip"
for _words, _value, _weak in (
    (_WEAK_YES, YES, True), (_YES, YES, False), (_NO, NO, False), (_NEUTRAL, None, False), (_SKIP, _SKIP_VALUE, False),
):
    for _w in _words.split():
        _POLARITY[_w] = (_value, _weak)
_STATE = set("在 在的 在隔离 隔离了 隔离中 隔离着 正在 有 有的 隔离 居家 集中".split())
_NEGATORS = set("不 没 不是 没有 并没有 还没 还没有 从没 没得 莫得 冇 冇得 冇有 木有".split())
_DOING = re.compile(r"(?![的呢啊呀哦嘛吧了隔离家|]|$)")
_POLARITY_RE = re.compile("|".join(sorted(map(re.escape, _POLARITY), key=len, reverse=True)))

_COLOUR_TRUE = {"绿": "green", "黄": "yellow", "红": "red"}
_COLOUR_SOUNDS = {c: colour for chars, colour in (
    ("律率虑吕旅铝屡缕滤驴氯路鹿露陆录", "green"), ("皇凰煌晃谎慌璜磺簧蝗荒王", "yellow"), ("洪宏虹鸿弘泓轰哄烘", "red"),
) for c in chars}
_CODE = "码马吗妈嘛麻玛蚂色的啊呀"
_COLOUR_RE = re.compile(
    rf"(?P<true>[绿黄红])|(?P<sound>[{''.join(_COLOUR_SOUNDS)}])(?=[{_CODE}]|$)|(?P<en>green|yellow|red)"
)
_NEGATION = re.compile(r"(不是|没有|不|没|非|并非)(是)?$")
_DENY_THEN_STATE = re.compile(r"(不是|不对|没有)是$")  # "不是，是黄码": no (to what was said), it is yellow
_NORMAL_CODE = re.compile(r"(?<!不)正常|没(有)?(什么)?问题|没事|没毛病")
_CORRECTION = set("哦噢呃额")  # "红 码 哦 不 是 黄 码": "oh no, it is yellow"
_PAST = "之前|以前|原来|本来|刚才|上次|先前|曾经|前几天|前段时间|昨天|那时|当时|开始|起初|原先"
_PRESENT = "现在|目前|已经|后来|如今|今天|转成|转为|转|变成|变为|变|换成|成了|刚刚"
# What will hold later is not the answer ("黄码 过两天 就 转绿 了" is yellow now).
_FUTURE = re.compile(r"过(两|几|一|俩)?(天|周|阵)|明天|后天|下(周|个?星期|个?礼拜)|马上|快要|快(转|变)|就要|将要|即将|要(转|变)|会(转|变)")
_TIME_RE = re.compile(rf"(?P<past>{_PAST})|(?P<present>{_PRESENT})")

_RESULT_RE = re.compile(
    r"(?P<negative>阴(?=[性行姓形信了的啊呀过吗嘛吧呢]|$)|[音因隐引殷荫印姻茵][性行姓形信]|银[性姓形]|negative|"
    r"没(有)?(什么)?问题|都?正常|没事|都好|没(有)?感染|没病|没毛病|一切正常|都没事|健康|通过了|合格)"
    r"|(?P<positive>(?<!太)阳(?=[性行姓形信了的啊呀过吗嘛吧呢]|$)|[扬羊杨洋氧养痒仰央][性行姓形信]|positive|"
    r"有问题|确诊|感染了|被感染|异常|不正常|不合格)"
    r"|(?P<unknown>出没出|有没有出|出来没有?|出了没有?)"
    r"|(?P<pending>还在(出|等|做|化验|检测)|正在出|在出|还没|没出|要等|等到|等着|(明天|后天)(才|再)?(能|会)?(出|知道|有)|没(有)?结果|等(待)?(结果|通知|消息|短信)|在等|还在等|结果还?没|还不知道|不知道结果|没(拿到|收到|通知|消息)|"
    r"未出|待定|出不来|过两天|(今天|明天|后天|晚上|下午)(才)?(能)?出|没看|没查|pending)"
)


def read(text: str, area: tuple[str | None, str | None] | None = None) -> Heard:
    """The answer with its intent found and the intent phrases blanked (bot.nlu.table)."""
    body = compact(text)
    intent, intents, spans = find_intents(body)
    return Heard(text, body, blank_spans(body, spans), intent, intents, area)


def yes_no(h: Heard) -> str | None:
    if "wrong_number" in h.intents:
        return NO
    rest, hedged = without_hedges(h.rest)
    # with an intent or a hedge, a bare 嗯 is a filler, not an answer
    value = parse_yes_no(rest, weak=h.intent is None and not hedged)
    # "我 没 空 跟 你 说": a refusal is never read as a "no" ("是 我，但是 很 忙" stays a yes)
    return None if value == NO and h.intent in ("refuse", "do_not_call") else value


def health_code(h: Heard) -> str | None:
    return parse_colour(h.rest)


def count(h: Heard) -> int | None:
    return parse_count(h.rest)


def test_result(h: Heard) -> str | None:
    return parse_result(h.rest)


def address(h: Heard) -> dict[str, Any] | None:
    return _address(h.text, h.rest, h.intent, h.area)


def free_text(h: Heard) -> str | None:
    return clean(h.text) or None


def contacts(h: Heard) -> list[dict[str, Any]]:
    return [] if h.intent else zh_tracing.parse_contacts(h.text)


def places(h: Heard) -> list[dict[str, Any]]:
    return [] if h.intent else zh_tracing.parse_places(h.text)


def grammar_phrases(expect: str) -> list[str]:
    return phrases(expect)


# Hedges ("记不清了", "说不好", "不太确定"): not sure is not an answer, and never a "no" (or a "yes":
# "不太确定" holds 确定). Found before yes/no and blanked.
HEDGES = re.compile(
    r"记不(太)?清(楚)?|记不得|记不住|不(太|大)?记得|想不起(来)?|忘(记)?了|没(什么)?印象|说不(好|准|清楚?|上来|定)|"
    r"不(太|大)?好(说|讲)|不(太|大)?(知道|晓得|清楚|确定|肯定)|不能确定|不敢(肯定|确定|说)|不一定|拿不准|吃不准|"
    r"搞不(清楚?|懂|明白)|弄不清楚?|(大概|可能|也许|应该)(吧|是吧)$|谁知道|(我)?哪(里|儿)?(知道|晓得)"
)


def without_hedges(rest: str) -> tuple[str, bool]:
    """`rest` with its hedges blanked, and whether there were any."""
    spans = [m.span() for m in HEDGES.finditer(rest)]
    return blank_spans(rest, spans), bool(spans)


def parse_yes_no(body: str, weak: bool = True) -> str | None:
    """Last strong polarity word wins; weak ones (嗯, 就是) count only when nothing else was said.
    A state word right after a negation is negated: "不是 在 隔离" -> no."""
    if _RELATIVE.search(body):
        return NO  # someone else answered the phone
    body = _OTHER_FACT.sub("|", body)
    body = _COMPLY.sub("嗯", body)  # "好 的 我 不 出门": a promise to comply, a (weak) yes, not a "no"
    strong: list[str | None] = []
    found_weak: list[str | None] = []
    negation_end = -1
    for m in _POLARITY_RE.finditer(body):
        word = m.group()
        value, is_weak = _POLARITY[word]
        if value == _SKIP_VALUE or (word == "在" and _DOING.match(body, m.end())):
            continue  # "我 在 开车": where the caller is, not "yes, I am (in quarantine)"
        if word in _STATE and m.start() == negation_end:
            value, is_weak = NO, False
        if word in _NEGATORS:
            negation_end = m.end()
        (found_weak if is_weak else strong).append(value)
    if strong:
        return strong[-1]
    if not weak or not found_weak or _QUESTION.search(body):
        return None  # "需要 隔离 吗": the caller is asking, not answering
    return found_weak[-1]


def parse_colour(body: str) -> str | None:
    """Last non-negated colour, preferring what holds now over what held before."""
    found: list[tuple[str, bool]] = []  # (colour, in the past)
    future: list[str] = []
    since = 0  # where the previous colour ended: a future marker after it applies to this one
    for m in _COLOUR_RE.finditer(body):
        word = m.group()
        colour = _COLOUR_TRUE.get(word) or _COLOUR_SOUNDS.get(word) or word
        before = body[max(0, m.start() - 3) : m.start()]
        negation = None if _DENY_THEN_STATE.search(body, 0, m.start()) else _NEGATION.search(before)
        if negation and body[max(0, m.start() - 4) : m.start() - len(negation.group())][-1:] not in _CORRECTION:
            continue
        if _FUTURE.search(body, since, m.start()):
            future.append(colour)
        else:
            found.append((colour, _in_past(body, m.start())))
        since = m.end()
    found = found or [(c, False) for c in future]
    current = [c for c, past in found if not past]
    if current:
        return current[-1]
    if found:
        return found[-1][0]
    return "green" if _NORMAL_CODE.search(body) else None  # "码 是 正常 的": a normal code is green


def _in_past(body: str, position: int) -> bool:
    last = None
    for m in _TIME_RE.finditer(body, 0, position):
        last = m.lastgroup
    return last == "past"


def parse_result(body: str) -> str | None:
    value = None
    for m in _RESULT_RE.finditer(body):
        kind = m.lastgroup
        before = body[max(0, m.start() - 3) : m.start()]
        if kind in ("negative", "positive") and _NEGATION.search(before) and not _DENY_THEN_STATE.search(body, 0, m.start()):
            if kind == "positive":
                value = "negative"  # "不是阳性" / "没有阳" -> negative
            continue
        value = None if kind == "unknown" else kind  # "不 知道 出 没 出": not an answer
    return value


_NON_ANSWER = re.compile(
    r"^(不知道|不晓得|不清楚|不太清楚|说不清楚|说不清|搞不清|不记得|记不清|忘了|没有|没|嗯|啊|哦|呃|额|那个|就是|喂|你好|楚|吧|呀|吗|"
    # stalling: "等 一下", "我 想想" (the address is still to come)
    r"我|你|等一下|等等|稍等|等会儿?|等下|我想想|想一下|想想|让我想想|我看看|这个|嘛|哈哈|呵呵|哈|"
    # a yes or an acknowledgement is not an address either ("是 我" said to the address question)
    r"是|对|好|行|可以|的|本人|收到|知道了|明白)*$"
)


def _address(text: str, rest: str, intent: str | None, area: tuple[str | None, str | None] | None
             ) -> dict[str, Any] | None:
    bare = rest.replace("|", "")
    if _NON_ANSWER.match(bare):
        return None
    value = parse_address(text, area)
    if value is None:
        return None
    if intent and not (value["district"] or value["city"] or value["province"]):
        return None  # "我 不 想 回答" is a refusal, not an address
    return value
