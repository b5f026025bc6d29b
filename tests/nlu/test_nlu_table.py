"""The NLU's per-locale expect dispatch is one table (issue 21 item 3): (locale, expect) -> parser."""

from __future__ import annotations

import sys
import types

import pytest

from bot.nlu import EXPECTS, Parse, parse, table


def test_one_table_names_every_parser_of_the_built_in_locales():
    for lang in ("zh", "en"):
        assert {e for (lg, e) in table.PARSERS if lg == lang} == set(EXPECTS), lang
    assert {e for (lg, e) in table.PARSERS if lg == "ko"} == set(EXPECTS) - {"contacts", "places"}
    assert set(table.READERS) == {"zh", "en", "ko"}


def test_an_expect_a_locale_has_no_parser_for_is_not_understood():
    assert parse("ko-KR", "contacts", "네") == Parse(None, None)


def test_an_unknown_locale_is_a_clear_error():
    with pytest.raises(ValueError, match="no answer understanding for locale 'qq-QQ'"):
        parse("qq-QQ", "yes_no", "yes")


def test_a_locale_added_as_a_module_is_found_by_name(monkeypatch):
    """Adding a locale is a module: with `read` and value parsers it gets the same "is this an
    answer" rules; with its own `parse` it is called as it is."""
    from bot.nlu.base import Heard

    mod = types.ModuleType("bot.nlu.qq")
    mod.read = lambda text, area=None: Heard(text, text, text, None)
    mod.yes_no = lambda h: "yes" if h.rest == "ja" else None
    mod.contacts = lambda h: []
    monkeypatch.setitem(sys.modules, "bot.nlu.qq", mod)
    assert parse("qq-QQ", "yes_no", "ja") == Parse("yes", None)
    assert parse("qq-QQ", "contacts", "。") == Parse(None, None)  # nobody named is not "nobody"
    assert parse("qq-QQ", "count", "3") == Parse(None, None)
