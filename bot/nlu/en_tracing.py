"""English contact-tracing answers (`contacts`, `places`), over lower-case recognizer words.

contacts -> [{"name", "relation", "phone"}]: "my <relation> [<name>]", "a <relation> named <name>",
"with <name>", and phone numbers said as digits or number words ("five five five zero one …",
"415 555 0199"); a number joins the contact said before it. Names are title-cased.
places -> [{"place", "when"}]: per clause, the time said ("yesterday afternoon", "on tuesday at 3 pm",
"two days ago") and the place after "went to / was at / visited …" (or the clause itself when it
starts with "the/a/my"); "the bank and the post office" are two places. "nowhere" -> [].
Written by hand for the same reason as zh_tracing.py."""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.phones import EN_DIGITS, e164

RELATIONS = {
    "spouse": "wife husband spouse", "partner": "girlfriend boyfriend partner fiance fiancee",
    "parent": "mother mom mum father dad parents parent", "child": "son daughter kids children child kid",
    "sibling": "brother sister sibling siblings", "relative": ("cousin aunt uncle grandma grandmother grandpa "
                                                              "grandfather niece nephew relative relatives"),
    "colleague": "colleague coworker co-worker workmate boss manager colleagues coworkers",
    "friend": "friend friends buddy", "classmate": "classmate classmates", "neighbour": "neighbor neighbour",
    "roommate": "roommate flatmate housemate",
}
_RELATION_OF = {w: kind for kind, words in RELATIONS.items() for w in words.split()}
_NOT_NAME = set((
    "and or his her their its is was were the a an to at in on with i we they he she it me my our your you "
    "number phone cell mobile who that this yesterday today tonight named called also too just only then "
    "had have has did didn't went go for of from by about after before but so no not yes yeah um uh"
).split()) | set(_RELATION_OF) | set(EN_DIGITS)
_DIGIT_WORD = re.compile(r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d+)(?:\s+(?:zero|oh|o|one|two|"
                         r"three|four|five|six|seven|eight|nine|\d+))*\b")


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w'\s-]", " ", (text or "").lower()).split()


def _name(words: list[str], i: int) -> tuple[str | None, int]:
    taken = []
    while i < len(words) and len(taken) < 2 and words[i] not in _NOT_NAME and words[i].isalpha():
        taken.append(words[i])
        i += 1
    return (" ".join(w.capitalize() for w in taken) or None), i


def parse_contacts(text: str) -> list[dict[str, Any]]:
    body = " ".join(_words(text))
    phones = []
    for m in _DIGIT_WORD.finditer(body):
        digits = "".join(EN_DIGITS.get(w, w) for w in m.group().split())
        if len(digits) >= 7:
            phones.append((m.start(), m.end(), e164(digits, "US")))
    for start, end, _ in reversed(phones):
        body = body[:start] + f" #{start} " + body[end:]
    phone_at = {f"#{s}": p for s, _, p in phones}
    words = body.split()
    contacts: list[dict[str, Any]] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in phone_at:
            if not contacts or contacts[-1]["phone"]:
                contacts.append({"name": None, "relation": None, "phone": None})
            contacts[-1]["phone"] = phone_at[w]
            i += 1
        elif w in _RELATION_OF:
            contact = {"name": None, "relation": _RELATION_OF[w], "phone": None}
            i += 1
            if i < len(words) and words[i] in ("named", "called"):
                i += 1
            contact["name"], i = _name(words, i)
            contacts.append(contact)
        elif w in ("with", "named", "called") and i + 1 < len(words) and words[i + 1] not in _NOT_NAME:
            name, i = _name(words, i + 1)
            contacts.append({"name": name, "relation": None, "phone": None})
        else:
            i += 1
    return contacts


# ---------------------------------------------------------------- places
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple of|several|\\d+"
_TIME = re.compile(
    rf"\b(?:the day before yesterday|yesterday|today|tonight|this (?:morning|afternoon|evening)|"
    rf"last (?:night|week|weekend|month|{_DAYS})|(?:on )?(?:{_DAYS})s?|(?:on |over )?the weekend|"
    rf"(?:{_NUMS}) (?:days?|weeks?) ago|at (?:\d+|{_NUMS})(?::\d\d)?(?: ?(?:am|pm|o'clock))?|"
    rf"in the (?:morning|afternoon|evening)|morning|afternoon|evening|night)\b"
)
_WHEN_RUN = re.compile(rf"(?:{_TIME.pattern})(?:\s+(?:{_TIME.pattern}))*")
_GO = re.compile(r"\b(?:went to|go to|gone to|been to|visited|was at|were at|stopped by|stayed at|dropped by|"
                 r"to|at|in)\b\s*")
_NOWHERE = re.compile(r"\bnowhere\b|\bno ?where\b|\b(?:stayed|been|was|stay) (?:at )?home\b|"
                      r"\b(?:didn't|did not|haven't|have not) (?:go|gone|been) (?:anywhere|out)\b|\bdidn't leave\b")
_CLAUSE = re.compile(r"\s*(?:,|;|\bthen\b|\band then\b|\band (?=to\b|i\b|we\b|went\b|also\b))\s*")
_TRAIL = re.compile(r"\s+\b(?:for|to buy|to get|with|because)\b.*$")
_LEAD = re.compile(r"^(?:(?:only|just|also) )?(?:i|we)?\s*")


def parse_places(text: str) -> list[dict[str, Any]]:
    body = re.sub(r"[^\w'\s,;:-]", " ", (text or "").lower())
    if _NOWHERE.search(body):
        return []
    out: list[dict[str, Any]] = []
    for clause in _CLAUSE.split(body):
        whens = [m.group() for m in _WHEN_RUN.finditer(clause)]
        rest = " ".join(_WHEN_RUN.sub(" | ", clause).split())
        go = _GO.search(rest)
        if go:
            place = rest[go.end():]
        elif re.match(r"^(?:\| )?(?:the|a|an|my|our)\b", rest):
            place = rest
        else:
            continue
        place = _TRAIL.sub("", place.split("|")[0].strip() or place.replace("|", " ").strip())
        place = _LEAD.sub("", place).strip() if go is None else place.strip()
        when = " ".join(whens) or None
        for one in re.split(r"\s+and\s+", place):
            if one and one not in ("home", "anywhere"):
                out.append({"place": one, "when": when})
    return out
