"""`branch` (go on by an already filled slot's value: `branch: slot`, `branches: {value: step}`,
`next` when none matches). No output of its own."""

from __future__ import annotations

from typing import Any

from bot.dialog.actions.spec import ActionSpec, Checker


def build(c: Checker, path: tuple, m: dict, kw: dict) -> None:
    kw["branch_slot"] = c.text(m["branch"], (*path, "branch"), optional=False)
    kw["branches"] = c.branches(path, m.get("branches"), None)
    if not kw["next"]:
        c.err(path, f"branch step {path[-1]!r} needs next (the default when no branch matches)")


def lint(script: Any, step: Any, err: Any) -> None:
    if step.branch_slot and step.branch_slot not in {s.slot for s in script.steps.values() if s.is_ask}:
        err(("steps", step.id, "branch"), f"step {step.id!r} branches on slot {step.branch_slot!r} that no ask fills")


def enter(conv: Any, step: Any) -> str | None:
    if step.say:
        conv.say(step.say, f"{step.id}.say")
    value = conv.record.slots.get(step.branch_slot)
    return dict(step.branches).get(str(value), step.next)


ACTION = ActionSpec("branch", frozenset({"branches"}), build, enter, lint, order=2)
