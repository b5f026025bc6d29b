"""What the `Conversation` stores as an answer (a mixin of it): only answers, and settled only when sure.

- identity "no" heard with less than high confidence (`SURE_NO`) is confirmed ("您不是{name}本人，对吗？",
  the script's `confirm_not_person` handler) before the call ends as a wrong number: a misheard
  "你们是谁" must not close a person and rest the number in every campaign;
- "别再打了" / "stop calling me" from the listed person (or whoever has not said they are not) is a
  refusal: persuaded once (the `refuse` handler), then escalated as uncooperative with the request
  noted on the case. Said by a wrong number (with or after "not me / wrong number") the number goes
  on the do-not-call list (outcome do_not_call);
- an address that names no district (bot.nlu gives a place without one) is asked for its district
  once (`ask_district`); a second answer with one completes it; without one the address is kept as
  heard but the person is escalated (unresolved) at the end instead of completed: never settled
  without a district;
- a value said unsurely ("好像是绿码", "两三次", "i think it's green", "not sure, but it's me") is
  confirmed with the question's `confirm` prompt, as one heard with low confidence;
- a hedge ("记不清了", "说不好", "i'm not sure") is neither an answer nor misheard: the script's `unsure`
  sentence ("没关系，您可以想一想再回答。"), then the question again (a failure, bounded as others);
- a contact named without a phone is asked for the number (`ask_phone`: its first sentence with
  {contact} = the name said, its second for a contact named by relation only), once per contact;
  "没有"/"不知道"/silence leaves it without one.

Handlers a script does not have are skipped with the behaviour before them (accept as heard).
"""

from __future__ import annotations

import logging
from typing import Any

from bot import nlu
from bot.dialog.events import EscalationReason, Outcome, Utterance
from bot.nlu.identity import answer_to_not_the_person

_Base = object  # a mixin of bot.dialog.engine.Conversation (which imports this module)

log = logging.getLogger(__name__)
SURE_NO = 0.8  # an identity "no" heard below this is confirmed before the call ends as a wrong number
OPT_OUT_NOTE = "asked not to be called again"


class Answering(_Base):
    def _init_answering(self) -> None:
        self.opt_out = False  # "别再打了" heard on this call
        self.district_asked: str | None = None  # the step whose address was asked for its district
        self.partial_address: dict[str, Any] | None = None
        self.unsettled: list[str] = []  # slots kept as heard that an operator must settle
        self.phones_asked: set[int] = set()  # contact indexes asked for their number
        self.phone_for: int | None = None  # the contact whose number is being asked

    # ------------------------------------------------------------ decisions before a value is kept
    def _held_back(self, value: Any, confidence: float) -> bool:
        """Whether `value` (for the question asked) waits: confirmed, completed or asked again."""
        step = self.step
        if self.phase != "ask":
            return False
        if step is self.identity and value == "no" and confidence < SURE_NO:
            handler = self.script.handlers.get("confirm_not_person")
            if handler and handler.say:
                self.phase, self.pending = "confirm", value
                self._say(handler.say[0], "handlers.confirm_not_person.0", remember=True, reset=True)
                self._out.append(self._listen())
                return True
        if step.expect == "address" and isinstance(value, dict) and not value.get("district"):
            return self._ask_district(value)
        return False

    def _confirmed_not_person(self, value: Any) -> Any:
        """The answer to "您不是{name}本人，对吗？": "对" and a bare "不是" both say not the person
        ("yes" to the confirmation); "不对，我是本人" asks the identity question again ("no")."""
        if self.pending != "no" or self.step is not self.identity:
            return value
        said = answer_to_not_the_person(self.script.locale, self._heard, self.vars.get("name"))
        return value if said is None else ("yes" if said else "no")

    def _ask_district(self, value: dict[str, Any]) -> bool:
        step = self.step
        handler = self.script.handlers.get("ask_district")
        if not (handler and handler.say):
            return False  # a script without the question: as before, kept as heard
        if self.district_asked == step.id:
            if step.slot not in self.unsettled:
                self.unsettled.append(step.slot)  # kept as heard; an operator settles it
            return False
        self.district_asked, self.partial_address = step.id, value
        self._say(handler.say[0], "handlers.ask_district.0", remember=True, reset=True)
        self._out.append(self._listen())
        return True

    def _with_partial(self, value: Any) -> Any:
        """The district said after "哪个区县？" completes the address heard before it."""
        held, self.partial_address = self.partial_address, None
        if held is None or self.step.expect != "address" or not isinstance(value, dict) or not value.get("district"):
            return value
        both = self._parse("address", f"{held.get('raw') or ''} {value.get('raw') or ''}").value
        if isinstance(both, dict) and both.get("district") == value.get("district"):
            return both
        return {**value, "raw": f"{held.get('raw') or ''} {value.get('raw') or ''}".strip()}

    def _unsure(self, text: str) -> str | None:
        """The script's `unsure` sentence when `text` is a hedge ("记不清了", "i'm not sure"), else None."""
        handler = self.script.handlers.get("unsure")
        if not (handler and handler.say) or not nlu.hedged(self.script.locale, text):
            return None
        return handler.say[0]

    def _said_unsurely(self) -> bool:
        """Whether the answer just heard gives its value unsurely ("好像是绿码", "两三次", "i think it's
        green") or with a hedge: the value is confirmed, never stored as sure (bot.nlu.tentative)."""
        try:
            return nlu.tentative(self.script.locale, self._heard) or nlu.hedged(self.script.locale, self._heard)
        except Exception:  # one odd answer must never end a call: taken as said surely
            log.exception("unsure check failed at step %s", self.step.id)
            return False

    @staticmethod
    def _closed(step: Any) -> bool:
        """A question answered from a closed set, which the keypad can answer too (not an
        acknowledgement such as the notice's, whose first reprompt reads the notice again)."""
        return (bool(step.dtmf) or step.expect == "count") and not step.accept

    def _nobody(self, parsed: Any) -> Any:
        """"i don't know anyone" at the contacts question of the confirmed person: nobody, not a
        wrong number (bot.nlu reads the phrase as one, as it is at the identity question)."""
        if (self.phase == "ask" and self.step.expect in ("contacts", "places") and parsed.intent == "wrong_number"
                and parsed.value == [] and self.identity is not None
                and self.record.slots.get(self.identity.slot) == "yes"):
            return type(parsed)([], None)
        return parsed

    # ------------------------------------------------------------ opt-out
    def _opt_out_heard(self, value: Any) -> None:
        """"别再打了": the wrong number's request lists the number; the listed person's is a refusal."""
        self.opt_out = True
        if value == "no" or (self.identity is not None and self.record.slots.get(self.identity.slot) == "no"):
            self._wrong_person_settled()
            self._say_handler("do_not_call")
            self._finish(Outcome.DO_NOT_CALL)
            return
        self._on_intent("refuse")

    def _refusal_detail(self) -> str:
        return f"refused {self.refusals} times"

    def _noted(self, detail: str) -> str:
        """An escalation's detail, with the resident's request not to be called noted on the case."""
        return f"{detail}; {OPT_OUT_NOTE}" if self.opt_out and OPT_OUT_NOTE not in detail else detail

    def _final_outcome(self, outcome: Outcome) -> Outcome:
        """The outcome the call ends with."""
        if outcome == Outcome.WRONG_NUMBER and self.opt_out:
            return Outcome.DO_NOT_CALL  # "别再打了 … 我不是他": the wrong number asked not to be called
        return outcome

    def _unsettled_escalated(self) -> bool:
        """At the end of a call that would complete: an answer kept as heard but not settled (an
        address without a district) makes it a case instead, at that question, and the resident is
        told an operator will be in touch (the `escalate` handler), not goodbye as if all were done."""
        if not self.unsettled:
            return False
        slot = self.unsettled[0]
        self.step = next((s for s in self.script.steps.values() if s.slot == slot), self.step)
        self._escalate(EscalationReason.UNRESOLVED, f"kept as heard, to settle: {', '.join(self.unsettled)} "
                                                    "(an address without a district)")
        return True

    # ------------------------------------------------------------ a contact's phone
    def _ask_phones(self) -> bool:
        """After a contacts answer: ask for the number of the next contact named without one."""
        step = self.step
        handler = self.script.handlers.get("ask_phone")
        contacts = self.record.slots.get(step.slot)
        if step.expect != "contacts" or not isinstance(contacts, list) or not (handler and handler.say):
            return False
        for i, c in enumerate(contacts):
            if isinstance(c, dict) and not c.get("phone") and i not in self.phones_asked:
                self.phones_asked.add(i)
                self.phone_for, self.phase = i, "phone"
                self.vars["contact"] = c.get("name") or ""
                n = 0 if c.get("name") else min(1, len(handler.say) - 1)
                self._say(handler.say[n], f"handlers.ask_phone.{n}", remember=True, reset=True)
                self._out.append(self._listen())
                return True
        self.phone_for = None
        return False

    def _phone_heard(self, ev: Utterance | None, text: str) -> None:
        """The answer to "他的手机号码是多少？" (None: silence or a key): the number, or none; then on."""
        parsed = self._parse("contacts", text) if ev is not None else None
        if ev is not None:
            self._caller(ev, parsed.to_json())
        i, slot = self.phone_for, self.step.slot
        phones = [c.get("phone") for c in (parsed.value or []) if isinstance(c, dict) and c.get("phone")] \
            if parsed is not None and isinstance(parsed.value, list) else []
        if parsed is not None and parsed.intent and parsed.intent != "repeat" and not phones:
            self.phase = "ask"
            self._on_intent(parsed.intent)
            if self.phase != "done":
                self.phase = "phone"
            return
        if parsed is not None and parsed.intent == "repeat":
            self._reask()
            return
        if phones and i is not None:
            contacts = [dict(c) for c in self.record.slots[slot]]
            contacts[i]["phone"] = phones[0]
            self.record.slots[slot] = contacts
            self._mark(slot, contacts)
        if not self._ask_phones():
            self._goto(self.step.next)

