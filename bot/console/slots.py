"""The answers a case form shows and an operator corrects, as the dialog script defines them:
one field per slot of the script, in the script's order, named by its `title:`, with the values
its `ask:` type allows. Nothing here lists slots: a script with other questions (the survey's
contacts and places) gets its own form.

Contacts and places are edited as text, one per line — "王芳 配偶 13812345678" and
"前天下午 西关十字的超市" — and stored as the NLU stores them ({"name", "relation", "phone"},
{"when", "place"}); "无" (or an emptied field that held names) is the answer "nobody / nowhere".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from bot.dialog.model import EXPECT_VALUES

Gettext = Callable[[str], str]


def N_(msgid: str) -> str:
    return msgid


MAX_LINES = 50


@dataclass(frozen=True)
class Field:
    slot: str
    expect: str
    title: str  # the script's `title:`, else its question
    allowed: tuple[str, ...] | None  # the values a list offers; None: typed

    @property
    def is_list(self) -> bool:
        return self.expect in ("contacts", "places")


def fields_of(script: Any) -> tuple[Field, ...]:
    """One field per slot the script asks, in the order its steps are written."""
    out: dict[str, Field] = {}
    for step in script.steps.values():
        if step.slot and step.expect and step.slot not in out:
            out[step.slot] = Field(step.slot, step.expect, step.title or step.prompt or step.slot,
                                   EXPECT_VALUES.get(step.expect))
    return tuple(out.values())


RELATIONS: dict[str, str] = {  # the codes the NLU stores (bot/nlu/*_tracing.py) -> words for staff
    "spouse": N_("spouse"), "parent": N_("parent"), "child": N_("child"), "sibling": N_("sibling"),
    "relative": N_("relative"), "colleague": N_("colleague"), "classmate": N_("classmate"),
    "friend": N_("friend"), "roommate": N_("roommate"), "neighbour": N_("neighbour"), "partner": N_("partner"),
    "other": N_("other"),
}
NONE_WORDS = ("无", "没有", "none", "nobody", "nowhere", "-")


class FieldError(ValueError):
    """`msgid` (English, translated by the view) for one field."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


def list_text(expect: str, value: Any, _: Gettext) -> str:
    """A stored contacts/places list as the form's lines (empty list: "无")."""
    if not isinstance(value, list):
        return ""
    if not value:
        return "无"
    lines = []
    for item in value:
        if not isinstance(item, dict):
            lines.append(str(item))
        elif expect == "contacts":
            rel = item.get("relation")
            words = [item.get("name") or "", _(RELATIONS[rel]) if rel in RELATIONS else rel or "", item.get("phone") or ""]
            lines.append(" ".join(w for w in words if w))
        else:
            lines.append(" ".join(str(item[k]) for k in ("when", "place") if item.get(k)))
    return "\n".join(lines)


_SPLIT = re.compile(r"[\s,，、;；]+")
_PHONE = re.compile(r"^\+?[\d\-]{7,20}$")


def parse_list(expect: str, text: str, region: str, _: Gettext) -> list[dict[str, Any]]:
    """The operator's lines as a contacts or places list; FieldError on a bad line."""
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n") if ln.strip()]
    if len(lines) > MAX_LINES:
        raise FieldError(N_("%(slot)s: at most 50 lines, one per line."))
    if len(lines) == 1 and lines[0].lower() in NONE_WORDS:
        return []
    return [_contact(ln, region, _) if expect == "contacts" else _place(ln) for ln in lines]


def _contact(line: str, region: str, _: Gettext) -> dict[str, Any]:
    from bot.console.i18n import translations

    zh = translations("zh-CN").gettext
    words = {w: code for code, msgid in RELATIONS.items() for w in (code, msgid, zh(msgid), _(msgid))}
    name, relation, phone = [], None, None
    for token in _SPLIT.split(line[:300]):
        if token in words and relation is None:
            relation = words[token]
        elif _PHONE.match(token) and phone is None:
            try:
                number = phonenumbers.parse(token, region or "CN")
            except phonenumbers.NumberParseException:
                number = None
            if number is None or not phonenumbers.is_valid_number(number):
                raise FieldError(N_("%(slot)s: a phone number is not valid; write one contact per line: "
                                    "name, relation, mobile number."))
            phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        elif token:
            name.append(token)
    return {"name": "".join(name)[:100] or None, "relation": relation, "phone": phone}


def _place(line: str) -> dict[str, Any]:
    when, _sep, place = line[:300].partition(" ")
    if not place.strip():
        return {"place": when, "when": None}
    return {"place": place.strip(), "when": when}
