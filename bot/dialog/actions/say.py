"""`say` (a step that only speaks, then goes on: `say: ...` and `next: ...`) and its output
`Say`, performed by a line's `speak`."""

from __future__ import annotations

from typing import Any

from bot.dialog.actions import actions  # the package is loaded before its modules
from bot.dialog.actions.spec import ActionSpec, Checker, Line
from bot.dialog.events import Say


def build(c: Checker, path: tuple, m: dict, kw: dict) -> None:
    names = [a.name for a in actions()]
    if not kw["say"]:
        c.err(path, f"step {path[-1]!r} must {', '.join(names[:-1])} or {names[-1]}")
    elif not kw["next"]:
        c.err(path, f"step {path[-1]!r} needs next or end")


def enter(conv: Any, step: Any) -> str | None:
    if step.say:
        conv.say(step.say, f"{step.id}.say")
    return step.next


def speak(say: Say, line: Line) -> Any:
    return line.speak(say)


ACTION = ActionSpec("say", frozenset(), build, enter, outputs={Say: speak}, order=0)
