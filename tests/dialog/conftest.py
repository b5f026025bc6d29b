"""A fake locale `xx-XX` whose answer understanding is a lookup table, so engine tests
do not depend on the real zh/en parsers."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from bot.dialog.script import EXPECT_VALUES
from bot.nlu import Parse

FAKE = {
    "yes": Parse("yes"), "no": Parse("no"), "green": Parse("green"), "yellow": Parse("yellow"),
    "red": Parse("red"), "two": Parse(2), "zero": Parse(0), "negative": Parse("negative"),
    "who": Parse(None, "who"), "again": Parse(None, "repeat"), "refuse": Parse(None, "refuse"),
    "human": Parse(None, "human"), "wrong": Parse(None, "wrong_number"),
}  # fmt: skip


def _parse(expect: str, text: str) -> Parse:
    if expect == "address":
        # an address names the district 城关区 unless it says "nodistrict" (bot.dialog.answering asks for one)
        district = None if text.startswith("nodistrict") else "城关区"
        return FAKE.get(text) or (Parse({"raw": text, "district": district}) if text != "mumble" else Parse())
    if expect == "count" and text.isdigit():
        return Parse(int(text))
    found = FAKE.get(text, Parse())
    allowed = EXPECT_VALUES[expect]
    if found.value is not None and not (allowed and found.value in allowed or expect == "count" and isinstance(found.value, int)):
        return Parse()  # like the real parsers: a colour is not an answer to a yes/no question
    return found


@pytest.fixture(autouse=True)
def fake_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = types.ModuleType("bot.nlu.xx")
    mod.parse = _parse
    mod.grammar_phrases = lambda expect: sorted(FAKE)
    monkeypatch.setitem(sys.modules, "bot.nlu.xx", mod)


@pytest.fixture
def zh_script_text() -> str:
    root = Path(__file__).resolve().parents[2]
    return (root / "dialogs" / "verification.zh-CN.yaml").read_text(encoding="utf-8")


@pytest.fixture
def xx_script(zh_script_text: str):
    from bot.dialog.script import load_script_text

    return load_script_text(zh_script_text.replace("locale: zh-CN", "locale: xx-XX"), "xx.yaml")


@pytest.fixture
def fake_answers() -> dict[str, Parse]:
    """The fake locale's table, for tests that add an answer (with monkeypatch.setitem)."""
    return FAKE
