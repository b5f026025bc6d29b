"""The answer understanding's own types (re-exported by `bot.nlu`): what an answer may be about,
`Heard` (an answer as a locale reads it) and `Parse` (what it says)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXPECTS = ("yes_no", "health_code", "count", "test_result", "address", "text", "contacts", "places")
LISTS = ("contacts", "places")  # expects whose value is a list ([] when nothing was named)
INTENTS = ("refuse", "human", "repeat", "who", "wrong_number", "do_not_call")


@dataclass(frozen=True)
class Heard:
    """An answer as a locale reads it, for its value parsers."""

    text: str  # as said (capped at MAX_CHARS)
    body: str  # normalised for matching (zh: compact; en: lower-case words)
    rest: str  # `body` with intent phrases blanked ("|")
    intent: str | None = None
    intents: frozenset[str] = frozenset()  # every intent said ("我不是他，别再打了": wrong_number too)
    area: tuple[str | None, str | None] | None = None  # (province, city) for ambiguous districts (zh)


@dataclass(frozen=True)
class Parse:
    value: Any = None
    intent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "intent": self.intent}
