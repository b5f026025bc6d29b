"""Whether an answer that gives a value says it unsurely: "好像是绿码", "应该是阴性吧", "大概两次",
"两三次", "i think it's green", "probably negative", "two or three".

The desk's rule (issue 22): a fact said with a hedge is heard, but it is not stored as sure. The
dialog confirms it ("您说的是绿码，对吗？") as it does a value heard with low confidence. A hedge
with no value at all ("记不清了") is `bot.nlu.hedged`, not this.

Written by hand: which words make a resident's answer unsure is the call centre's rule.
"""

from __future__ import annotations

import re

from bot.nlu.text import MAX_CHARS, compact

_NUM = "零一二两俩三四五六七八九十"
_ZH = re.compile(
    r"(?<!不)(好像|应该|可能|大概|大约|也许|估计|似乎|貌似|差不多|印象中|应当)(?!的$)|我(觉|感)得|我记得(好像)?|"
    rf"左右|[{_NUM}]来(次|回|遍)|(?<![{_NUM}])(?P<lo>[一二两三四五六七八九])(?P<hi>[三四五六七八九十])(次|回|遍|个|趟)|"
    r"(是|码|色|性|次|回)吧$"
)
_EN = re.compile(
    r"\b(i think|i (don'?t|do not) think|once or twice|i guess|i believe|i suppose|probably|maybe|perhaps|possibly|likely|should be|must be|"
    r"or so|kind of|sort of|pretty sure|i reckon|a couple|a few)\b|"
    r"\b(about|around|roughly|approximately) (one|two|three|four|five|six|seven|eight|nine|ten|once|twice|a few|\d+)\b|"
    r"\b(one|two|three|four|five|six|seven|eight|nine|\d) or (two|three|four|five|six|seven|eight|nine|ten|\d+)\b"
)


def _zh_range_ok(m: re.Match[str]) -> bool:
    """"三四次" is a range; "十三次" is not (caught by the lookbehind), "一二" ascending only."""
    if m.group("lo") is None:
        return True
    order = "一二两三四五六七八九十"
    return order.index(m.group("hi")) > order.index(m.group("lo"))


def tentative(locale: str, text: str) -> bool:
    """Whether `text` gives its answer unsurely (the dialog confirms the value instead of storing it)."""
    text = (text or "")[:MAX_CHARS]
    lang = locale.split("-")[0].lower()
    if lang == "zh":
        return any(_zh_range_ok(m) for m in _ZH.finditer(compact(text)))
    if lang == "en":
        return bool(_EN.search(" ".join(re.findall(r"[a-z0-9']+", text.lower()))))
    return False
