"""The conversation state machine: events in, actions out, one event at a time.

Pure and deterministic: no audio, network, clock or database. The record (slots and
transcript) is updated as each event is handled; drivers use it through
`bot.dialog.session.CallSession`, which hands new turns and slot values to its observers
after every step (the engine itself calls nothing outside the dialog core).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot import nlu
from bot.dialog.actions import STOP, action_for
from bot.dialog.answering import Answering
from bot.dialog.asking import Asking
from bot.dialog.events import (
    Action,
    CallAnswered,
    CallRecord,
    Dtmf,
    End,
    Escalate,
    EscalationReason,
    Event,
    HangUp,
    Listen,
    NoInput,
    Outcome,
    Say,
    Speaker,
    Utterance,
)
from bot.dialog.initiative import Initiative
from bot.dialog.model import Script, Step
from bot.dialog.resuming import Resuming
from bot.dialog.speaking import Speaking

log = logging.getLogger(__name__)

# A "yes" to a read-back heard less sure than this (Whisper base: 是 at 0.2 for a half-heard word)
# does not confirm the value: the read-back is said again once, then the question (`_doubt`).
SURE_YES = 0.3

Parser = Callable[[str, str, str], nlu.Parse]  # (locale, expect, text) -> Parse, e.g. bot.nlu.parse


class ConversationError(RuntimeError):
    pass


class Conversation(Answering, Asking, Initiative, Resuming, Speaking):
    def __init__(
        self,
        script: Script,
        person: dict[str, Any],
        variables: dict[str, Any] | None = None,
        prefilled_slots: dict[str, Any] | None = None,
        parser: Parser | None = None,
    ):
        self.script = script
        given = {**(variables or {}), **{k: v for k, v in person.items() if v is not None}}
        # as the locale says them: {agency} in its language, phone numbers in groups (bot.dialog.catalogue)
        self.vars = script.system.spoken(given, script.locale) if script.system is not None else given
        self.prefilled = dict(prefilled_slots or {})
        self.parser: Parser = parser or nlu.parse
        slots = {s.slot: None for s in script.steps.values() if s.is_ask}
        self.record = CallRecord(script.name, script.version, script.locale, slots=slots)
        self.step: Step | None = None
        self.phase = "idle"  # idle | ask | confirm | done
        self.pending: Any = None  # value awaiting confirmation
        self.doubted: tuple[str, Any] | None = None  # (step, value) whose read-back got an unsure "yes" once
        self.failures = {"no_input": 0, "no_match": 0}
        self.refusals = 0
        self.handler_uses: dict[str, int] = {}
        self.last_prompts: list[Say] = []
        self.identity = script.identity  # see Script.identity
        self.resumed = False  # the identity question was skipped: an earlier call stored "yes"
        self._out: list[Action] = []
        self._init_initiative()
        self._init_answering()

    # ------------------------------------------------------------ public
    @property
    def finished(self) -> bool:
        return self.phase == "done"

    @property
    def current_listen(self) -> Listen | None:
        if self.phase not in ("ask", "confirm", "phone") or self.step is None:
            return None
        return self._listen()

    def start(self, at: float | None = None) -> list[Action]:
        return self.handle(CallAnswered(at))

    def handle(self, event: Event) -> list[Action]:
        """Handle one event to completion and return the actions to perform, in order."""
        self._out = []
        self._caller_turn, self._heard = None, ""
        if not isinstance(event, Utterance):  # silence or a key: no lead-in or open answer goes on
            self.prefix, self.last_open = "", None
        if self.phase == "done":
            return []
        if isinstance(event, CallAnswered):
            if self.phase != "idle":
                raise ConversationError(f"call answered twice (phase {self.phase})")
            self._goto(self.script.start)
        elif self.phase == "idle":
            if isinstance(event, HangUp):
                self._finish(Outcome.HUNG_UP)
            else:
                raise ConversationError(f"{type(event).__name__} before the call was answered")
        elif isinstance(event, HangUp):
            self._turn(Speaker.CALLER, "<hangup>", kind="hangup", at=event.at)
            self._finish(Outcome.HUNG_UP)
        elif isinstance(event, NoInput):
            self._turn(Speaker.CALLER, "<silence>", kind="silence", at=event.at, audio=event.audio)
            self._phone_heard(None, "") if self.phase == "phone" else self._failure("no_input")
        elif isinstance(event, Dtmf) and self.phase == "phone":
            self._turn(Speaker.CALLER, f"dtmf:{event.digit}", kind="dtmf", confidence=1.0, at=event.at)
            self._phone_heard(None, "")
        elif isinstance(event, Dtmf):
            self._heard = ""  # a key is sure: not the words said before it
            self._on_dtmf(event)
        elif isinstance(event, Utterance):
            self._on_utterance(event)
        else:
            raise ConversationError(f"unknown event {event!r}")
        return self._out

    # ------------------------------------------------------------ inputs
    def _on_utterance(self, ev: Utterance) -> None:
        text = f"{self.prefix} {ev.text}" if self.prefix else ev.text  # a held lead-in and what followed it
        self.prefix, self._heard = "", text
        previous, self.last_open = self.last_open, None
        if self.phase == "phone":
            self._phone_heard(ev, text)
            return
        if self._someone_else(ev, text) or self._correct_earlier(ev, text) or self._continue_answer(ev, text):
            return
        expect = "yes_no" if self.phase == "confirm" else self.step.expect
        parsed = self._nobody(self._parse(expect, text))
        if self.phase == "confirm" and self.step.expect != "yes_no" and not parsed.intent:
            parsed = self._while_confirming(ev, text, parsed)
            if parsed is None:
                return
        parsed = self._own_answer(text, parsed)
        if self.phase == "ask" and parsed.value is None and not parsed.intent and self._continue_open(ev, text, previous):
            return
        if self._hold_lead_in(ev, text, parsed):
            return
        self._caller(ev, parsed.to_json())
        if self.phase == "ask" and not parsed.intent and self._may_fill_others(parsed.value):
            parsed = self._also_answers(ev, text, parsed)
            if parsed is None:
                return
        if parsed.intent == "who" and parsed.value not in (None, []):
            # "是我，你们是哪里？": answer the question, then keep the answer
            self._say_handler("who")
            self._on_value(parsed.value, ev.confidence)
        elif parsed.intent == "do_not_call":
            self._opt_out_heard(parsed.value)
        elif parsed.intent:
            self._on_intent(parsed.intent)
        elif parsed.value is None:
            self._failure("no_match", unsure=self._unsure(text))
        else:
            self._on_value(parsed.value, ev.confidence)

    def _parse(self, expect: str, text: str) -> nlu.Parse:
        try:
            return self.parser(self.script.locale, expect, text)
        except Exception:  # one bad answer must never end a call: treat it as not understood
            log.exception("answer understanding failed at step %s", self.step.id)
            return nlu.Parse()

    def _on_value(self, value: Any, confidence: float) -> None:
        step = self.step
        if self.phase == "confirm":
            confirmed = self._confirmed_not_person(value)
            if confirmed == "yes" and confidence < SURE_YES and self._doubt():
                return  # an unsure "yes" to a read-back: asked once more, never taken as confirmed
            if confirmed == "yes":
                self._accept(self.pending)
            else:  # denied: ask the question itself again (bounded by the failure limit)
                self.phase = "ask"
                self._failure("no_match", denied=True)
            return
        if step.accept and str(value) not in step.accept:
            self._failure("no_match")
            return
        value = self._with_partial(value)
        if self._said_unsurely():
            confidence = 0.0  # "好像是绿码", "两三次", "not sure, it's me": not said as sure: confirmed
        if self._held_back(value, confidence):
            return
        if step.confirm and (confidence < step.confirm.below or step.confirm.below >= 1):  # below: 1 = always
            self.phase, self.pending = "confirm", value
            self._say(step.confirm.prompt, f"{step.id}.confirm", value=step.label(value), remember=True, reset=True)
            self._out.append(self._listen())
            return
        self._accept(value)

    def _doubt(self) -> bool:
        """A read-back ("您是说X，对吗？") answered "yes" below SURE_YES: the first time the read-back is
        said again (with the keypad, 1/2); the second, it counts as denied and the question is asked
        again (bounded by the failure limit). True: handled (the value is not stored)."""
        key = (self.step.id, self.pending)
        if self.doubted != key:
            self.doubted = key
            self._reask()
            return True
        self.doubted = None
        self.phase = "ask"
        self._failure("no_match", denied=True)
        return True

    # ------------------------------------------------------------ moves
    def _accept(self, value: Any) -> None:
        step = self.step
        self.record.slots[step.slot] = value
        self._mark(step.slot, value)
        if step.expect == "address" and self._heard:
            self.last_open = (step.id, self._heard)  # words that follow may continue it
        if self._ask_phones():
            return
        target = dict(step.branches).get(str(value), step.next)
        self._goto(target)

    def _failure(self, kind: str, denied: bool = False, unsure: str | None = None) -> None:
        """`unsure`: the caller hedged ("记不清了"): that sentence, then the question (not "I didn't catch")."""
        step = self.step
        self.failures[kind] += 1
        limit = step.max_failures or self.script.settings.max_failures
        if sum(self.failures.values()) >= limit:
            self._escalate(EscalationReason.UNRESOLVED, f"{self.failures['no_input']} no-input, {self.failures['no_match']} no-match")
            return
        self.phase = "ask"
        if denied or unsure:
            if unsure:
                self._say(unsure, "handlers.unsure.0", remember=True, reset=True)
            self._say(step.prompt, f"{step.id}.prompt", remember=True, reset=not unsure)
        else:
            prompts = step.no_input if kind == "no_input" else step.no_match
            i = min(self.failures[kind], len(prompts)) - 1
            self._say(prompts[i], f"{step.id}.{kind}.{i}", remember=True, reset=True)
            if kind == "no_match" and i == 0 and len(prompts) > 1 and self._closed(step):
                last = len(prompts) - 1  # the keypad, offered after one miss (scripts put it last)
                self._say(prompts[last], f"{step.id}.{kind}.{last}", remember=True)
        self._out.append(self._listen())

    def _reask(self) -> None:
        """Say the current question again (after who/repeat/refuse) and listen."""
        for say in self.last_prompts:
            self._emit(say)
        self._out.append(self._listen())

    def _goto(self, step_id: str | None) -> None:
        """Enter steps from `step_id` on, each by its action (bot.dialog.actions), until one waits
        for the caller or ends the call."""
        for _ in range(len(self.script.steps) + 1):
            if step_id is None:
                raise ConversationError("a step without next (lint should have caught this)")
            step = self.script.steps[step_id]
            self.step, self.failures = step, {"no_input": 0, "no_match": 0}
            self.phase = "moving"
            step_id = action_for(step).enter(self, step)
            if step_id is STOP:
                return
        raise ConversationError("the script loops without asking anything")

    def _escalate(self, reason: EscalationReason, detail: str, handler_say: str = "escalate", say: bool = True) -> None:
        step_id = self.step.id if self.step else ""
        detail = self._noted(detail)
        if say and not self._say_handler(handler_say) and handler_say != "escalate":
            self._say_handler("escalate")
        self.record.escalation = Escalate(reason, step_id, detail)
        self._out.append(self.record.escalation)
        self._finish(Outcome.ESCALATED)

    def _finish(self, outcome: Outcome) -> None:
        outcome = self._final_outcome(outcome)
        self.record.outcome = outcome
        self.record.last_step = self.step.id if self.step else None
        self.phase = "done"
        self._out.append(End(outcome))

