"""What a resident who calls back with a call code hears (bot/campaigns/inbound/callbacks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.settings import localised

GENUINE = {
    "zh": "核验成功。{when}给您打电话的是{agency}的防疫工作人员，工号{badge}，这是真实来电。",
    "en": "Thank you. The call you had {when} was genuine: it came from {agency}, staff number {badge}.",
    "ko": "확인되었습니다. {when} 받으신 전화는 {agency}에서 건 실제 전화입니다. 직원 번호는 {badge}입니다.",
}
WRONG = {
    "zh": "您输入的核验码与我们的来电记录不符。请核对后重拨，或拨打官方电话{callback_number}。",
    "en": "That code does not match any call from us. Please check it and call again, or call the official number {callback_number}.",
    "ko": "입력하신 번호는 저희 통화 기록과 일치하지 않습니다. 확인 후 다시 걸어 주시거나 공식 번호 {callback_number}로 전화해 주세요.",
}
WHEN = {"zh": "{m}月{d}日", "en": "on {date}", "ko": "{m}월 {d}일"}


def reply_for(outcome: str, locale: str, variables: dict[str, str], called_at: datetime | None,
              timezone: str | None) -> str:
    """The sentence for a checked code: genuine (by whom, when), wrong, or nothing (no code keyed)."""
    lang = locale.split("-")[0]
    values: dict[str, Any] = localised(variables, locale)
    if outcome.startswith("genuine"):
        when = ""
        if called_at is not None:
            local = called_at.astimezone(ZoneInfo(timezone or "Asia/Shanghai"))
            when = WHEN.get(lang, WHEN["en"]).format(m=local.month, d=local.day, date=local.strftime("%d %B"))
        text = GENUINE.get(lang, GENUINE["en"])
        if not values.get("badge"):  # no badge configured: leave the clause out
            text = text.replace("，工号{badge}", "").replace(", staff number {badge}", "").replace(" 직원 번호는 {badge}입니다.", "")
        return text.format(**{**values, "when": when})
    if outcome == "wrong_code":
        return WRONG.get(lang, WRONG["en"]).format(**values)
    return ""
