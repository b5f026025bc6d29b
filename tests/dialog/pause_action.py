"""A dialog action defined outside bot/ (issue 21 acceptance): `pause: <seconds>` holds the
line silent between prompts. This module is the whole of it: its spec (the step key and its
schema), its engine behaviour and its output, performed by every driver's line `wait`.
Registered by the test that uses it (`bot.dialog.actions.register`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.dialog.actions import ActionSpec, Checker, Line


@dataclass(frozen=True)
class Pause:
    seconds: float


def build(c: Checker, path: tuple, m: dict, kw: dict) -> None:
    seconds = c.number(m["pause"], (*path, "pause"), 0.1, 30)
    kw["params"] = (("seconds", seconds),)
    if not kw["next"]:
        c.err(path, f"pause step {path[-1]!r} needs next")


def lint(script: Any, step: Any, err: Any) -> None:
    if step.next in script.steps and script.steps[step.next].end:
        err(("steps", step.id, "pause"), f"pause {step.id!r} only delays the hang-up (it goes straight to an end)")


def enter(conv: Any, step: Any) -> str | None:
    if step.say:
        conv.say(step.say, f"{step.id}.say")
    conv.emit(Pause(step.param("seconds")))
    return step.next


def wait(output: Pause, line: Line) -> Any:
    return line.wait(output.seconds)


ACTION = ActionSpec("pause", frozenset(), build, enter, lint, outputs={Pause: wait})
