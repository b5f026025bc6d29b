"""What a resident who calls back with a call code hears (bot/campaigns/inbound/callbacks.py); the
sentences are the locale's system catalogue's `callback.*` (dialogs/system.<locale>.yaml)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dialog.catalogue import Catalogue, catalogue_for
from bot.settings import localised


def reply_for(outcome: str, locale: str, variables: dict[str, str], called_at: datetime | None,
              timezone: str | None, catalogue: Catalogue | None = None) -> str:
    """The sentence for a checked code: genuine (by whom, when; from another phone than the one
    called, that the questions cannot go on here), wrong, or nothing (no code keyed)."""
    cat = catalogue or catalogue_for(locale)
    values = localised(variables, locale)
    if outcome.startswith("genuine"):
        when = ""
        if called_at is not None:
            local = called_at.astimezone(ZoneInfo(timezone or "Asia/Shanghai"))
            when = cat.text("callback.when", {"month": local.month, "day": local.day})
        # no badge configured: the sentence without it (never "staff number ," with nothing said)
        key = "callback.genuine" if values.get("badge") else "callback.genuine_no_badge"
        text = cat.say(key, values, when=when)
        if outcome == "genuine_other_number":  # the call was ours, but this is not the phone we called
            other = cat.say("callback.other_number", values)
            text = f"{text} {other}" if text[-1:].isascii() else text + other
        return text
    if outcome == "wrong_code":
        return cat.say("callback.wrong_code", values)
    return ""
