"""Chinese numerals and "how many times" answers.

Numerals: Arabic digits, 零〇一二两三…十…九十九…百, 俩 = 2, 仨 = 3, 幺 = 1.
Approximate answers: "三四次" / "两三次" / "七八次" give the LOWER bound (3, 2, 7): the number of
tests we can be sure of; "十几次" / "十多次" give 10. "好几次" / "很多次" are not understood (null).
The last count said wins ("做了两次不对三次" -> 3); "没做过" / "一次都没有" / "零次" give 0.
Numbers that are dates, ages, ordinals or durations ("三天前", "第二次", "最后一次", "一下") are skipped.
"""

from __future__ import annotations

import re

_DIGIT = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3,
          "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = "[0-9]+|[零〇一幺二两俩三仨四五六七八九十百]+"
_ZERO = (
    r"(?:一|1)(?:次|回|遍)(?:都|也)?(?:没|没有|未|不)|零次|0次|从(?:来)?没|从未|没(?:有)?(?:时间|空)去?(?:做|测)|"
    r"(?:还|都|也|并)?(?:没有|没得|莫得|冇得|冇有|冇|木有|没|未)(?:去)?(?:做|测|检测|查|验|采样|过)+|"
    r"(?:还|都|也|并)?(?:没有|没得|莫得|冇得|冇有|冇|木有|没|未)(?=(?:呢|啊|呀|的|有|吧)*$)"
)
_MEASURE = "次|回|遍|轮|趟|此|刺|词|下"
_SCAN = re.compile(rf"(?P<zero>{_ZERO})|(?P<num>{_NUM})(?P<approx>几|多)?(?:个)?(?P<measure>{_MEASURE})?")
# A number right before these is a date, duration, age, place or amount, not a count of tests.
_NOT_COUNT_AFTER = re.compile(
    r"(?:个)?(?:天|号|日|月|年|点|周|星期|礼拜|小时|钟头|分|秒|岁|楼|栋|号楼|单元|块|元|毛|公里|米|样|直|起|些|般|共|定|边|会|半|家|人|码)"
)
_OTHER_THING = re.compile(r"(?![了吧啊呀呢的嘛核检测|]|$)")
_NOT_COUNT_BEFORE = re.compile(r"(?:第|最后|最近|上|这|那|前|每|头|末)$")


def to_int(numeral: str) -> int | None:
    """'二十一' -> 21, '两' -> 2, '十' -> 10, '一百零五' -> 105, '21' -> 21, '三四' -> 3."""
    if numeral.isdigit():
        return int(numeral)
    if not numeral:
        return None
    if all(c in _DIGIT for c in numeral):
        values = [_DIGIT[c] for c in numeral]
        if len(values) == 2 and values[1] == values[0] + 1:
            return values[0]  # "三四" = three or four: the lower bound
        if len(values) == 1:
            return values[0]
        return int("".join(str(v) for v in values))  # read digit by digit: "一零" = 10
    total, current = 0, None
    for c in numeral:
        if c in _DIGIT:
            if current is not None and current == _DIGIT[c] - 1 and total == 0:
                pass  # "二三十" = twenty or thirty: keep the lower digit
            else:
                current = _DIGIT[c]
        elif c == "十":
            total += (current if current is not None else 1) * 10
            current = None
        elif c == "百":
            total = (total + (current if current is not None else 1)) * 100
            current = None
    return total + (current or 0)


def parse_count(compact: str) -> int | None:
    """The last count stated in the compact text, 0 for 'never done', else None."""
    value: int | None = None
    for m in _SCAN.finditer(compact):
        if m.group("zero"):
            value = 0
            continue
        if m.group("measure") == "下" or _NOT_COUNT_BEFORE.search(compact, 0, m.start()):
            continue
        if not m.group("measure") and not m.group("approx") and _NOT_COUNT_AFTER.match(compact, m.end()):
            continue
        if not m.group("measure") and "个" in m.group() and _OTHER_THING.match(compact, m.end()):
            continue  # "下 一个 问题": one of something else, not one test
        number = to_int(m.group("num"))
        if number is not None:
            value = number
    return value
