"""Answer understanding: pure functions from recognizer text to a value and an intent.

Interface used by the rest of veribot:
    parse(locale, expect, text, area=None) -> Parse
    make_parser(default_province, default_city) -> Parser   (parse with the [nlu] area bound)
    grammar_phrases(locale, expect) -> list[str]   (phrases a recognizer grammar should allow)
    hedged(locale, text) -> bool   ("记不清了", "i'm not sure": not an answer, and not misheard)
    tentative(locale, text) -> bool   ("好像是绿码", "两三次", "probably negative": a value said unsurely)
Locale modules live in bot/nlu/<lang>.py (zh, en, ko): each reads an answer (`read`: the intent
found, its phrases blanked) and offers value parsers per expect; which parser serves which
(locale, expect) is one table, bot.nlu.table, where "is this an answer at all" (bot.nlu.answers) is
decided once for every locale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.nlu.base import EXPECTS, INTENTS, LISTS, Heard, Parse  # noqa: F401 (the package's interface)


def parse(locale: str, expect: str, text: str, area: tuple[str | None, str | None] | None = None) -> Parse:
    """`area` (province, city) settles a district name found in several places (zh); None: the
    built-in default (bot.nlu.address.FALLBACK_AREA)."""
    if expect not in EXPECTS:
        raise ValueError(f"unknown expect {expect!r}; one of {', '.join(EXPECTS)}")
    from bot.nlu import table  # imported on first use: it loads every locale

    return table.parse(locale, expect, text, area)


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


def hedged(locale: str, text: str) -> bool:
    """Whether the answer is a hedge ("记不清了", "说不好", "i'm not sure"): not sure, not misheard."""
    from bot.nlu import table

    return table.hedged(locale, text)


def tentative(locale: str, text: str) -> bool:
    """Whether the answer gives its value unsurely ("好像是绿码", "i think it's green"): confirmed, not stored as sure."""
    from bot.nlu.unsure import tentative as unsure

    return unsure(locale, text)


def grammar_phrases(locale: str, expect: str) -> list[str]:
    from bot.nlu import table

    return list(table.grammar_phrases(locale, expect))
