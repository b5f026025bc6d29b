"""The one place mapping (locale, expect) to the parser that reads its value.

A locale is a module with `read(text, area) -> Heard` (its intents found and blanked) and one value
parser per expect it understands; `PARSERS` names them. An expect a locale has no parser for gives
None (not understood: the dialog asks again), never an error. After the parser,
`bot.nlu.answers.judge` decides whether the value is an answer at all, the same way for every locale.
Adding a locale: its module `bot.nlu.<lang>`, found by name when it is not listed here: either
`read` plus value parsers named as in `NAMES`, or one `parse(expect, text) -> Parse` of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bot.nlu import answers, en, ko, zh
from bot.nlu.base import Heard, Parse
from bot.nlu.text import MAX_CHARS

READERS: dict[str, Callable[..., Heard]] = {"zh": zh.read, "en": en.read, "ko": ko.read}
GRAMMARS: dict[str, Callable[[str], list[str]]] = {
    "zh": zh.grammar_phrases, "en": en.grammar_phrases, "ko": ko.grammar_phrases,
}
# a locale module's value parser for each expect, by name
NAMES = {"yes_no": "yes_no", "health_code": "health_code", "count": "count", "test_result": "test_result",
         "address": "address", "text": "free_text", "contacts": "contacts", "places": "places"}
PARSERS: dict[tuple[str, str], Callable[[Heard], Any]] = {
    **{(lang, expect): getattr(module, name)
       for lang, module in (("zh", zh), ("en", en), ("ko", ko))
       for expect, name in NAMES.items() if expect not in ("contacts", "places")},
    ("zh", "contacts"): zh.contacts, ("zh", "places"): zh.places,
    ("en", "contacts"): en.contacts, ("en", "places"): en.places,
}


def _module(lang: str, locale: str) -> ModuleType:
    try:
        return importlib.import_module(f"bot.nlu.{lang}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bot.nlu.{lang}":
            raise
        raise ValueError(f"no answer understanding for locale {locale!r}") from exc


def parse(locale: str, expect: str, text: str, area: tuple[str | None, str | None] | None = None) -> Parse:
    lang = locale.split("-")[0].lower()
    text = (text or "")[:MAX_CHARS]  # an answer is a sentence or two: cap what a peer controls
    read = READERS.get(lang)
    if read is None:  # a locale added as a module only
        module = _module(lang, locale)
        if not hasattr(module, "read"):
            return _own(module.parse(expect, text), expect)
        read = module.read
        parser = getattr(module, NAMES[expect], None)
    else:
        parser = PARSERS.get((lang, expect))
    heard = read(text, area)
    value = parser(heard) if parser else None
    return Parse(answers.judge(lang, expect, heard, value), heard.intent)


def hedged(locale: str, text: str) -> bool:
    """Whether `text` is (or holds) a hedge: "记不清了", "说不好", "i'm not sure" (not an answer, and
    not something misheard: the dialog says so truthfully)."""
    lang = locale.split("-")[0].lower()
    module = {"zh": zh, "en": en}.get(lang)
    if module is None:
        return False
    return module.without_hedges(module.read((text or "")[:MAX_CHARS]).rest)[1]


def _own(result: Parse, expect: str) -> Parse:
    """A locale's own parse(): a list expect's value is a list or None, whatever it gives."""
    if expect in ("contacts", "places") and not isinstance(result.value, list):
        return Parse(None, result.intent)
    return result


def grammar_phrases(locale: str, expect: str) -> list[str]:
    lang = locale.split("-")[0].lower()
    grammar = GRAMMARS.get(lang) or _module(lang, locale).grammar_phrases
    return grammar(expect)
