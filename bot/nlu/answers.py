"""Whether what a parser found is an answer at all, per expect type, decided once for every locale
(bot.nlu.table applies it after the locale's own parser):

- yes/no and the other closed questions: refusals and hedges are read before yes/no by the locale
  parsers (their `yes_no` blanks hedges; a refusal is never a "no");
- contacts / places: `[]` ("nobody", "nowhere") only when the answer says so ("没有", "没接触过人",
  "就我一个人", "nobody", "i stayed home"); a garbled answer ("。"), a filler or a hedge ("记不清了")
  names nothing and is nothing understood (None: asked again), never "none"; nor are people there
  but not named ("我不认识他们名字", "跟几个人吃了饭");
- address: it must name a place — a province, city or district, or a street, estate, village or
  building word ("白银路", "幸福小区", "12 main street"). "在外面", "在上班", "我老婆王风，她电话是…",
  "i'm at work" are not addresses (None). Whether the place has a district is the dialog's
  business (bot.dialog.answering asks for it).

Written by hand: what counts as an answer is the call centre's rule, not a library's.
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.base import Heard

# zh: a place-kind word in what was said (the district-less part of an address)
_ZH_PLACE = re.compile(
    r"路|街|巷|胡同|弄|小区|村|镇|乡|号|楼|栋|幢|单元|室|苑|园|大厦|公寓|家属院|院|社区|新村|庄|屯|广场|大楼|宿舍|"
    r"湾|坊|寨|堡|营|铺|站|桥|滩|坪|塬|湖|港|十字|城|里|府|阁|居|庭|邸|座|期|组|队|场|厂|所|局|校|大学|医院|中心|市场|"
    r"酒店|宾馆|旅馆|饭店|招待所|附近"
)
# zh: talk about someone else's phone, not an address ("我老婆王风，她电话是…")
_ZH_NOT_PLACE = re.compile(r"电话|手机|号码|微信")
_EN_PLACE = re.compile(
    r"\b(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|square|terrace|"
    r"circle|highway|hwy|route|parkway|pkwy|alley|row|crescent|close|apartment|apt|unit|suite|building|block|"
    r"floor|tower|estate|village|town|township|city|county|district|compound|complex|residence|residences|"
    r"gardens?|heights|hills?|park|plaza|mansion|manor|court|community|neighborhood|quarter|zone|house|flat|dorm|"
    r"dormitory|hotel|motel|downtown|uptown|suburbs?|"
    r"qu|xian|lu|jie|xiaoqu|cun|zhen)\b|\d"
)
_EN_NOT_PLACE = re.compile(r"\b(?:number|phone|cell|mobile)\b")
# an explicit "nobody" / "nowhere" (the only way to an empty list)
_ZH_NONE = re.compile(r"没|无|不|一个人|自己|独自|单独|谁都|哪都|哪儿都|哪里都|在家|家里|宅")
# zh: some people there, only not named ("我不认识他们名字", "跟几个人吃了饭"): not "nobody"
_ZH_SOME = re.compile(r"他们|她们|几个|一些|有人|好多|很多|好几")
_EN_NONE = re.compile(
    r"\b(?:no|nope|nah|nobody|noone|none|nowhere|not|never|nothing|alone|myself|didn'?t|haven'?t|hasn'?t|wasn'?t|"
    r"home|stayed|staying|anyone|anybody|anywhere)\b"
)


def judge(lang: str, expect: str, heard: Heard, value: Any) -> Any:
    """`value` when it is an answer to a question expecting `expect`, else None."""
    if expect in ("contacts", "places") and value == [] and not heard.intent:
        return [] if _says_none(lang, heard) else None
    if expect == "address" and isinstance(value, dict) and not _names_place(lang, heard, value):
        return None
    return value


def _says_none(lang: str, heard: Heard) -> bool:
    if lang == "zh":
        from bot.nlu.zh import without_hedges

        rest, hedged = without_hedges(heard.rest)
        return not hedged and bool(_ZH_NONE.search(rest)) and not _ZH_SOME.search(rest)
    if lang == "en":
        from bot.nlu.en import without_hedges

        rest, hedged = without_hedges(heard.rest)
        return not hedged and bool(_EN_NONE.search(rest))
    return False  # a locale without tracing rules names nobody it understood: asked again


def _names_place(lang: str, heard: Heard, value: dict[str, Any]) -> bool:
    if any(value.get(k) for k in ("province", "city", "district")):
        return True
    if lang == "zh":
        detail = str(value.get("detail") or heard.rest)
        return bool(_ZH_PLACE.search(detail)) and not _ZH_NOT_PLACE.search(detail)
    if lang == "en":
        rest = heard.rest
        return bool(_EN_PLACE.search(rest)) and not _EN_NOT_PLACE.search(rest)
    return True  # other locales: their own address parser decides
