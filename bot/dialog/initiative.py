"""The caller leading as well as answering, as the `Conversation` hears it (a mixin of it):

- several answers in one breath: an answer is also read for the other questions of the script
  (`bot.nlu.early` finds the specific parts); a value heard that way is kept, or, heard with low
  confidence where its question confirms, confirmed in one sentence when its turn comes; a
  question whose answer is held is never asked;
- corrections after the bot moved on ("刚才说错了，是两次"): the earlier slot gets the new value
  (a new SlotFilled for the observers) and, when that changes the way through the script, the
  dialog takes the new way; no failure is counted;
- answers in pieces: a lead-in with nothing after it ("我住在……") is held and the next piece is
  read with it; words that continue the previous open answer (the address) after the bot moved
  on complete it instead of failing the new question;
- end of turn by meaning: `complete(expect, text)` for the listener (`Listen.complete`).

Each caller turn that filled or corrected slots says so (`Turn.filled`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot import nlu
from bot.dialog.events import Speaker, Utterance
from bot.dialog.model import Step
from bot.nlu import early

_Base = object  # a mixin of bot.dialog.engine.Conversation (which imports this module)


class Initiative(_Base):
    def _init_initiative(self) -> None:
        self.tentative: dict[str, Any] = {}  # slot -> value heard early with low confidence, to confirm
        self.prefix = ""  # a lead-in held for the next piece of the answer
        self.last_open: tuple[str, str] | None = None  # (step id, words) of the open answer just taken
        self._caller_turn: int | None = None  # transcript index of the caller turn being handled
        self._heard = ""  # the words of the answer being handled (with any held lead-in)
        self._last_heard: tuple[str, str] | None = None  # (step id, words) of the last caller turn

    # ------------------------------------------------------------ reading
    def _specific(self, step: Step, text: str, own: bool = False) -> Any:
        """The value `text` states specifically for `step`'s question, or None. `own`: the answer is
        to this very question (its words need not be said)."""
        words = () if own and step.expect != "yes_no" else step.early_words
        if words is None and step.expect == "yes_no":
            return None
        found = None
        for part in early.snippets(self.script.locale, step.expect, text, words or ()):
            value = self._parse(step.expect, part).value
            if step.expect == "address" and not _names_place(value):
                value = None
            if value is not None and not (step.accept and str(value) not in step.accept):
                found = value
        return found

    def complete(self, expect: str, text: str, prefix: str = "") -> bool:
        """Whether `text` (the caller's words so far) already answers a question expecting `expect`."""
        text = f"{prefix} {text}".strip() if prefix else text
        if not text.strip() or early.dangling(self.script.locale, text) or early.hesitating(self.script.locale, text):
            return False
        parsed = self._parse(expect, text)
        if parsed.intent:
            return True
        if expect == "address":
            value = parsed.value or {}
            if self.script.locale.startswith("zh"):
                return bool(value.get("district") and value.get("detail"))
            return _names_place(value)
        return parsed.value is not None

    # ------------------------------------------------------------ marking
    def _mark(self, slot: str, value: Any) -> None:
        """The caller turn being handled filled `slot` (shown in the transcript)."""
        i = self._caller_turn
        if i is None or i >= len(self.record.transcript):
            return
        turn = self.record.transcript[i]
        self.record.transcript[i] = dataclasses.replace(turn, filled={**(turn.filled or {}), slot: value})

    def _may_fill_others(self, value: Any) -> bool:
        """Not from an answer that ends the call otherwise ("不是本人"): what else it says is not the person's."""
        if value is None:
            return True
        if self.step.accept and str(value) not in self.step.accept:
            return False
        target = self.script.steps.get(dict(self.step.branches).get(str(value), self.step.next) or "")
        return target is None or not target.end or target.end == "completed"

    def _target(self, step: Step, value: Any) -> str | None:
        return dict(step.branches).get(str(value), step.next)

    def _other_asks(self) -> list[Step]:
        return [s for s in self.script.steps.values() if s.is_ask and s.id != self.step.id]

    # ------------------------------------------------------------ moves
    def _fill_others(self, text: str, confidence: float) -> bool:
        """Keep what the answer also says for questions not asked yet; whether it said any."""
        said = False
        for step in self._other_asks():
            if self.record.slots.get(step.slot) is not None or step.slot in self.tentative:
                continue
            if step.early_words is None:
                continue
            value = self._specific(step, text)
            if value is None:
                continue
            said = True
            if step.confirm and (confidence < step.confirm.below or step.confirm.below >= 1):
                self.tentative[step.slot] = value
            else:
                self.record.slots[step.slot] = value
                self._mark(step.slot, value)
        return said

    def _while_confirming(self, ev: Utterance, text: str, parsed: nlu.Parse) -> nlu.Parse | None:
        """"不对，是绿码" while confirming yellow: a new value replaces the pending one (None: done)."""
        again = self._parse(self.step.expect, text)
        if again.value is not None and again.value != self.pending and _names_a_value(again.value):
            self._caller(ev, again.to_json())
            self.phase = "ask"
            self._on_value(again.value, ev.confidence)
            return None
        if again.value == self.pending and parsed.value is None:
            return nlu.Parse("yes")  # repeating the pending value confirms it
        return parsed

    def _own_answer(self, text: str, parsed: nlu.Parse) -> nlu.Parse:
        """The answer to this question read without the other answers said with it: "对，我是本人，
        没有隔离" is a yes to the identity question (its "没有" is about isolation)."""
        if self.phase != "ask" or self.step.expect in ("address", "text") or parsed.value is None:
            return parsed
        locale = self.script.locale
        found = [m for s in self._other_asks() if s.early_words is not None
                 for m in early.marks(locale, s.expect, text, s.early_words)]
        if not found:
            return parsed
        for part in early.without(locale, text, found):  # what came first, then all but the others
            if part.strip(" |"):
                value = self._parse(self.step.expect, part).value
                if value is not None:
                    return nlu.Parse(value, parsed.intent)
        return nlu.Parse(None, parsed.intent)

    def _also_answers(self, ev: Utterance, text: str, parsed: nlu.Parse) -> nlu.Parse | None:
        """Fill what the answer also says for other questions; None when that was all it said."""
        if not self._fill_others(text, ev.confidence):
            return parsed
        if self.step.expect == "address":  # the address without the other answers said with it
            own = self._specific(self.step, text, own=True)
            parsed = nlu.Parse(own if own is not None or not _names_place(parsed.value) else parsed.value)
        if parsed.value is None:
            self._reask()  # it answered other questions, not this one: ask this one again, no failure
            return None
        return parsed

    def _correct_earlier(self, ev: Utterance, text: str) -> bool:
        """"刚才说错了，是两次": replace an answer already given; True when the turn was one."""
        if not early.corrects(self.script.locale, text):
            return False
        changes = []
        for step in self._other_asks():
            held = self.record.slots.get(step.slot)
            if held is None or step.expect in ("text",):
                continue
            value = self._specific(step, text)
            if value is not None and value != held:
                changes.append((step, held, value))
        if not changes:
            return False
        self._caller(ev, {"value": None, "intent": None, "corrects": [s.slot for s, _, _ in changes]})
        reroute = None
        for step, held, value in changes:
            self.record.slots[step.slot] = value
            self._mark(step.slot, value)
            if reroute is None and self._target(step, held) != self._target(step, value):
                reroute = self._target(step, value)
        self._say_handler("corrected")
        if reroute is not None:
            self._goto(reroute)
            return True
        value = self._specific(self.step, text) if self.phase == "ask" else None
        if value is not None:
            self._on_value(value, ev.confidence)
        else:
            self._reask()
        return True

    def _continue_open(self, ev: Utterance, text: str, previous: tuple[str, str] | None) -> bool:
        """Words continuing the open answer taken just before ("城关区" … "白银路三号") complete it."""
        if previous is None:
            return False
        step = self.script.steps[previous[0]]
        if step.expect != "address" or not early.names_place(self.script.locale, text):
            return False
        value = self._parse("address", f"{previous[1]} {text}").value
        held = self.record.slots.get(step.slot)
        if not _names_place(value) or value == held or not _longer(value, held):
            return False
        self._caller(ev, {"value": None, "intent": None, "continues": step.slot})
        self.record.slots[step.slot] = value
        self._mark(step.slot, value)
        self._reask()
        return True

    def _hold_lead_in(self, ev: Utterance, text: str, parsed: nlu.Parse) -> bool:
        """"我住在……" and the turn ended: keep listening, read the next piece with it."""
        if parsed.intent or self.prefix or self.phase != "ask":
            return False
        if parsed.value is not None and not (self.step.expect == "address" and not _names_place(parsed.value)):
            return False
        if not early.dangling(self.script.locale, text):
            return False
        self._caller(ev, {"value": None, "intent": None, "incomplete": True})
        self.prefix = text
        self._out.append(self._listen())
        return True

    def _continue_answer(self, ev: Utterance, text: str) -> bool:
        """The caller went on after a pause the bot took for the end of the answer ("아니요, … 아니요"; the
        listener marks such a turn `continues`): read with the previous answer, for the previous
        question. The same value (or nothing new): the question the caller talked over is asked again,
        no failure; a different value: it replaces the previous one (and the way on, if that changes).
        Words that say nothing about the previous question are an answer to the current one."""
        last, self._last_heard = self._last_heard, None
        if not ev.continues or last is None or last[0] not in self.script.steps:
            return False
        step = self.script.steps[last[0]]
        if not step.is_ask or step.expect == "text":
            return False
        held = self.record.slots.get(step.slot)
        value = self._parse(step.expect, f"{last[1]} {text}").value
        alone = self._parse(step.expect, text)
        if alone.value is None and not alone.intent and value in (None, held):
            return False  # not about the previous question
        if value is not None and value != held and held is not None and _names_a_value(value):
            self._caller(ev, {"value": None, "intent": None, "continues": step.slot})
            self.record.slots[step.slot] = value
            self._mark(step.slot, value)
            if step.id != self.step.id and self._target(step, held) != self._target(step, value):
                self._goto(self._target(step, value))
            else:
                self._reask()
            return True
        if value is None or value != held:
            return False
        self._caller(ev, {"value": None, "intent": None, "continues": step.slot})
        self._reask()
        return True

    def _caller(self, ev: Utterance, parse: dict[str, Any]) -> None:
        if self.step is not None:
            self._last_heard = (self.step.id, self._heard or ev.text)
        self._turn(Speaker.CALLER, ev.text, parse=parse, confidence=ev.confidence, at=ev.at, audio=ev.audio)


def _names_place(value: Any) -> bool:
    return isinstance(value, dict) and any(value.get(k) for k in ("province", "city", "district"))


def _longer(value: dict, held: Any) -> bool:
    """Whether the address `value` says more than `held` did."""
    if not isinstance(held, dict):
        return True
    return len(str(value.get("raw") or "")) > len(str(held.get("raw") or "")) and (
        not held.get("district") or value.get("district") == held.get("district"))


def _names_a_value(value: Any) -> bool:
    """Whether an answer heard while confirming states a value of its own. An address read
    from "不对" / "아니요" names no place, so it is the denial it sounds like, not a new address."""
    return _names_place(value) if isinstance(value, dict) else True
