"""One call's dialog, as every driver runs it (speech pipeline, keypad, `veribot simulate`, the
console simulator, tests):

    session = CallSession(script, person, variables, prefilled_slots, parser=nlu.parse,
                          observers=[recorder.observe])
    actions = session.start()              # Say / Listen / Escalate / End, in order
    actions = session.feed(Utterance("是"))  # one event at a time, until session.finished
    record = session.close()               # hangs up first if the dialog has not ended

Pure like the engine it wraps (no audio, network, clock or database). After every step the
session hands its observers, in order, what the step produced (`bot.dialog.events.Note`):
each new `Turn`, each slot value accepted (`SlotFilled`) and each `Escalate`. Observers are
plain callables; they run outside the engine, after its state is consistent. An observer
that raises is logged and the call goes on (a store that fails must not hang up on a
resident); the record returned by `close()` still holds everything.

Whoever runs the call may end it from outside (`end_early`: the worker can no longer store
answers): at the dialog's next event the caller hears that prompt instead of the next one and
the call ends escalated; words heard meanwhile are kept in the transcript, not parsed.

Actions addressed to the call rather than to the media (`Escalate`: transfer the caller or
queue the case) are performed by whoever runs the call, who sees them as actions or notes;
nothing reads them back from the record afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.dialog.engine import Conversation, Parser
from bot.dialog.events import (
    Action,
    CallAnswered,
    CallRecord,
    Dtmf,
    End,
    Escalate,
    Event,
    HangUp,
    Listen,
    Note,
    Outcome,
    Say,
    SlotFilled,
    Speaker,
    Turn,
    Utterance,
)
from bot.dialog.model import Script

log = logging.getLogger(__name__)

Observer = Callable[[Note], Any]


class CallSession:
    def __init__(
        self,
        script: Script,
        person: dict[str, Any],
        variables: dict[str, Any] | None = None,
        prefilled_slots: dict[str, Any] | None = None,
        *,
        parser: Parser | None = None,
        observers: Iterable[Observer] = (),
    ) -> None:
        self.script = script
        self.observers: tuple[Observer, ...] = tuple(o for o in observers if o is not None)
        self._conv = Conversation(script, person, variables, prefilled_slots, parser=parser)
        self._turns_told = 0
        self._slots_told: dict[str, Any] = {}
        self._slot_step = {s.slot: s.id for s in script.steps.values() if s.is_ask}
        self.escalation: Escalate | None = None  # the call's escalation, once the dialog asked for one
        self._early: tuple[Say, Escalate] | None = None  # end_early: said at the next event
        self._ended_early = False

    # ------------------------------------------------------------ state
    @property
    def record(self) -> CallRecord:
        return self._conv.record

    @property
    def finished(self) -> bool:
        return self._conv.finished or self._ended_early

    @property
    def started(self) -> bool:
        return self._conv.phase != "idle"

    @property
    def current_listen(self) -> Listen | None:
        return self._conv.current_listen

    # ------------------------------------------------------------ steps
    def start(self, at: float | None = None) -> list[Action]:
        """The call was answered: the opening prompts and the first question."""
        return self._step(CallAnswered(at))

    def feed(self, event: Event) -> list[Action]:
        """One event from the caller or the line; [] once the dialog has ended."""
        if self.finished:
            return []
        if self._early is not None and not isinstance(event, HangUp):
            return self._end_early(event)
        return self._step(event)

    def end_early(self, say: Say, escalate: Escalate) -> None:
        """End the dialog from outside at its next event (an answer, a key, no input): the caller
        hears `say` (nothing more is asked), the call ends escalated with `escalate`. The prompt
        playing now is finished first; a hang-up meanwhile ends the call as usual."""
        if not self.finished:
            self._early = (say, escalate)

    def _end_early(self, event: Event) -> list[Action]:
        say, esc = self._early  # type: ignore[misc]
        rec = self._conv.record
        listen = self._conv.current_listen
        step = listen.step if listen is not None else esc.step
        if isinstance(event, Utterance):  # heard, kept as evidence; not taken as an answer
            rec.transcript.append(Turn(Speaker.CALLER, event.text, step, "speech", confidence=event.confidence,
                                       at=event.at, audio=event.audio))
        elif isinstance(event, Dtmf):
            rec.transcript.append(Turn(Speaker.CALLER, event.digit, step, "dtmf", at=event.at))
        rec.transcript.append(Turn(Speaker.BOT, say.text, step, "prompt", at=getattr(event, "at", None)))
        rec.outcome, rec.last_step = Outcome.ESCALATED, step
        rec.escalation = esc
        self._ended_early = True
        actions: list[Action] = [say, esc, End(Outcome.ESCALATED)]
        self._tell(actions)
        return actions

    def close(self, at: float | None = None, reason: str = "hang-up") -> CallRecord:
        """The call is over: a dialog still running hears the hang-up (outcome hung_up).
        Returns the final record; closing twice returns the same record."""
        if not self.finished:
            log.debug("call closed before the dialog ended (%s)", reason)
            self._step(HangUp(at))
        return self._conv.record

    # ------------------------------------------------------------ observers
    def _step(self, event: Event) -> list[Action]:
        actions = self._conv.handle(event)
        self._tell(actions)
        return actions

    def _tell(self, actions: list[Action]) -> None:
        notes: list[Note] = []
        prefilled = self._conv.prefilled
        for slot, value in self._conv.record.slots.items():
            if value is not None and (slot not in self._slots_told or self._slots_told[slot] != value):
                self._slots_told[slot] = value
                notes.append(SlotFilled(slot, value, self._slot_step.get(slot),
                                        prefilled=slot in prefilled and prefilled[slot] == value))
        transcript = self._conv.record.transcript
        notes += transcript[self._turns_told:]
        self._turns_told = len(transcript)
        for action in actions:
            if isinstance(action, Escalate):
                self.escalation = action
                notes.append(action)
        for note in notes:
            notify(self.observers, note)


def notify(observers: Iterable[Observer], note: Any) -> None:
    """The one observer loop: every observer gets the note; one that fails is logged (storing
    must never end the call; the record still has the note)."""
    for observer in observers:
        try:
            observer(note)
        except Exception:
            log.exception("call observer failed on %s", type(note).__name__)
