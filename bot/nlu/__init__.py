"""Answer understanding: pure functions from recognizer text to a value and an intent.

Interface used by the rest of veribot:
    parse(locale, expect, text, area=None) -> Parse
    make_parser(default_province, default_city) -> Parser   (parse with the [nlu] area bound)
    grammar_phrases(locale, expect) -> list[str]   (phrases a recognizer grammar should allow)
Locale modules live in bot/nlu/<lang>.py (zh, en, ko) and expose the same two functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXPECTS = ("yes_no", "health_code", "count", "test_result", "address", "text", "contacts", "places")
LISTS = ("contacts", "places")  # expects whose value is a list ([] when nothing was named)
INTENTS = ("refuse", "human", "repeat", "who", "wrong_number", "do_not_call")


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


def parse(locale: str, expect: str, text: str, area: tuple[str | None, str | None] | None = None) -> Parse:
    """`area` (province, city) settles a district name found in several places (zh); None: the
    built-in default (bot.nlu.address.FALLBACK_AREA)."""
    if expect not in EXPECTS:
        raise ValueError(f"unknown expect {expect!r}; one of {', '.join(EXPECTS)}")
    module = _module(locale)
    if area is not None and getattr(module, "TAKES_AREA", False):
        result = module.parse(expect, text, area=area)
    else:
        result = module.parse(expect, text)
    if expect in LISTS and not isinstance(result.value, list):
        return Parse([], result.intent)  # a locale without tracing rules names nobody rather than failing
    return result


_BUILT_IN: Any = object()


def make_parser(default_province: str | None = _BUILT_IN, default_city: str | None = _BUILT_IN
                ) -> Callable[[str, str, str], Parse]:
    """The answer parser a call uses (`CallRequest.parser`, `CallSession(parser=)`), with the
    config's [nlu] area bound as given: `make_parser(*config.nlu.area)` (None or "" = no default
    at that level). No arguments: the built-in default area (bot.nlu.address.FALLBACK_AREA)."""
    if default_province is _BUILT_IN and default_city is _BUILT_IN:
        area = None
    else:
        area = (None if default_province is _BUILT_IN else default_province or None,
                None if default_city is _BUILT_IN else default_city or None)

    def parse_answer(locale: str, expect: str, text: str) -> Parse:
        return parse(locale, expect, text, area=area)

    return parse_answer


def grammar_phrases(locale: str, expect: str) -> list[str]:
    return list(_module(locale).grammar_phrases(expect))
