"""Answer understanding: pure functions from recognizer text to a value and an intent.

Interface used by the rest of veribot:
    parse(locale, expect, text) -> Parse
    grammar_phrases(locale, expect) -> list[str]   (phrases a recognizer grammar should allow)
Locale modules live in bot/nlu/<lang>.py (zh, en, ko) and expose the same two functions.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

EXPECTS = ("yes_no", "health_code", "count", "test_result", "address", "text", "contacts", "places")
LISTS = ("contacts", "places")  # expects whose value is a list ([] when nothing was named)
INTENTS = ("refuse", "human", "repeat", "who", "wrong_number")


@dataclass(frozen=True)
class Parse:
    value: Any = None
    intent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "intent": self.intent}


def _module(locale: str):
    lang = locale.split("-")[0].lower()
    try:
        return importlib.import_module(f"bot.nlu.{lang}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bot.nlu.{lang}":
            raise
        raise ValueError(f"no answer understanding for locale {locale!r}") from exc


def parse(locale: str, expect: str, text: str) -> Parse:
    if expect not in EXPECTS:
        raise ValueError(f"unknown expect {expect!r}; one of {', '.join(EXPECTS)}")
    result = _module(locale).parse(expect, text)
    if expect in LISTS and not isinstance(result.value, list):
        return Parse([], result.intent)  # a locale without tracing rules names nobody rather than failing
    return result


def grammar_phrases(locale: str, expect: str) -> list[str]:
    return list(_module(locale).grammar_phrases(expect))
