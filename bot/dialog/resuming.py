"""A call resumed after an earlier one was cut off, as the `Conversation` handles it (a mixin of it).

Answers stored by earlier calls of the person (`prefilled_slots`) are never asked again. That
includes the identity question (`Script.identity`, "are you {name}?") when an earlier call stored
"yes": instead the call says the script's `resume` text once ("{name}您好，刚才的通话中断了，我们接着
刚才的问题继续。", naming the person as the question would; a built-in one per language when the
script sets none) and goes on at the first question not answered yet. The greeting (who is calling)
is said as on every call. A stored "no" (or anything but "yes") is no confirmation: asked again.

Since nobody was asked who they are on this call, whoever answers saying they are not the person,
at any question ("我不是张三", "我是他老婆", "打错了", "this is his wife", "wrong number"), takes the
identity question's wrong-person way: identity is stored as "no", nothing said on this call is
stored against the person, and the call ends as a wrong number (the script's own "no" way when
heard as a statement, the wrong_number handler when heard as that intent, as at the question).
"""

from __future__ import annotations

from bot.dialog.events import Utterance
from bot.nlu.identity import not_the_person

_Base = object  # a mixin of bot.dialog.engine.Conversation (which imports this module)

# answers that name other people by design: "他是我同事" there is a contact, not a relative answering
_NAMES_OTHERS = ("contacts", "places", "text")


class Resuming(_Base):
    def _someone_else(self, ev: Utterance, text: str) -> bool:
        """On a resumed call, "我不是张三" / "我是他老婆" at any question: the wrong-person way."""
        if not self.resumed or self.identity is None or self.step.expect in _NAMES_OTHERS:
            return False
        if not not_the_person(self.script.locale, text, self.vars.get("name")):
            return False
        self._caller(ev, {"value": None, "intent": None, "not_the_person": True})
        ident = self.identity
        self._wrong_person_settled()
        self._goto(dict(ident.branches).get("no", ident.next))
        return True

    def _wrong_person_settled(self) -> None:
        """Whoever answers is not the person: identity "no", nothing pending for them kept."""
        self.pending, self.prefix, self.last_open = None, "", None
        self.tentative.clear()
        if self.identity is not None:
            self.record.slots[self.identity.slot] = "no"
            self._mark(self.identity.slot, "no")
