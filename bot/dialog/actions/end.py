"""`end` (the call ends with an outcome: `end: completed`, or `end: escalated` with `reason`)
and its outputs `End` and `Escalate`, performed by a line's `end` and `escalate`."""

from __future__ import annotations

from typing import Any

from bot.dialog.actions.spec import STOP, ActionSpec, Checker, Line
from bot.dialog.events import End, Escalate, EscalationReason, Outcome
from bot.dialog.model import ESCALATION_REASONS, OUTCOMES


def build(c: Checker, path: tuple, m: dict, kw: dict) -> None:
    end = m["end"]
    if end not in OUTCOMES:
        c.err((*path, "end"), f"end must be one of {', '.join(OUTCOMES)}, not {end!r}")
    kw["end"] = str(end)
    if end == "escalated":
        if m.get("reason") not in ESCALATION_REASONS:
            c.err((*path, "reason"), f"an escalated end needs reason: one of {', '.join(ESCALATION_REASONS)}")
        kw["reason"] = m.get("reason")
    if kw["next"]:
        c.err((*path, "next"), "an end step cannot have next")


def enter(conv: Any, step: Any) -> object:
    if step.end == "completed" and conv._unsettled_escalated():
        return STOP
    if step.say:
        conv.say(step.say, f"{step.id}.say")
    if step.end == "escalated":
        conv._escalate(EscalationReason(step.reason), f"script step {step.id}", say=False)
    else:
        conv._finish(Outcome(step.end))
    return STOP


def end(output: End, line: Line) -> Any:
    return line.end(output)


def escalate(output: Escalate, line: Line) -> Any:
    return line.escalate(output)


ACTION = ActionSpec("end", frozenset({"reason"}), build, enter, outputs={End: end, Escalate: escalate}, order=3)
