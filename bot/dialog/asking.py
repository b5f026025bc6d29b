"""What the caller asks for, said or keyed, as the `Conversation` handles it (a mixin of it): an
intent (a person, not to be called, wrong number, a refusal, who is calling, say again) and a key
pressed (an intent's key, or a value of the question's keypad)."""

from __future__ import annotations

from typing import Any

from bot.dialog.events import Dtmf, EscalationReason, Outcome, Speaker
from bot.dialog.speaking import CONFIRM_DTMF

_Base = object  # a mixin of bot.dialog.engine.Conversation (which imports this module)


class Asking(_Base):
    def _on_dtmf(self, ev: Dtmf) -> None:
        step = self.step
        intent = next((n for n, h in self.script.handlers.items() if h.dtmf == ev.digit), None)
        value: Any = None
        if not intent:
            if self.phase == "confirm":
                value = CONFIRM_DTMF.get(ev.digit)
            else:
                value = dict(step.dtmf).get(ev.digit)
                if value is None and step.expect == "count" and ev.digit.isdigit():
                    value = int(ev.digit)
        parse = {"value": value, "intent": intent}
        self._turn(Speaker.CALLER, f"dtmf:{ev.digit}", kind="dtmf", parse=parse, confidence=1.0, at=ev.at)
        if intent:
            self._on_intent(intent)
        elif value is None:
            self._failure("no_match")
        else:
            self._on_value(value, 1.0)

    def _on_intent(self, intent: str) -> None:
        handler = self.script.handlers.get(intent)
        if intent == "human" and self.vars.get("operator_line") == "" and "human_callback" in self.script.handlers:
            # no operator line: tell the truth (a callback within the configured time), not "transferring"
            self._escalate(EscalationReason.REQUESTED_HUMAN, "caller asked for a person; callback promised",
                           handler_say="human_callback")
        elif intent == "human":
            self._escalate(EscalationReason.REQUESTED_HUMAN, "caller asked for a person", handler_say="human")
        elif intent == "do_not_call":  # a key for it: as said
            self._opt_out_heard(None)
        elif intent == "wrong_number":  # "不是我，打错了" answers identity too; nothing else is kept
            self._wrong_person_settled()
            self._say_handler("wrong_number")
            self._finish(Outcome.WRONG_NUMBER)
        elif intent == "refuse":
            self.refusals += 1
            limit = handler.limit if handler and handler.limit else 2
            if self.refusals >= limit:
                self._escalate(EscalationReason.UNCOOPERATIVE, self._refusal_detail())
            else:
                self._say_handler("refuse")
                self._reask()
        elif intent == "who":
            self._say_handler("who")
            self._reask()
        elif intent == "repeat":
            self._say_handler("repeat")
            self._reask()
        else:
            self._failure("no_match")
