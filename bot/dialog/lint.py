"""Checks on a script's shape beyond the schema: references, reachability, ends,
variables, DTMF keys, reprompts. Every problem carries the line it is about."""

from __future__ import annotations

from bot.dialog.actions import action_for
from bot.dialog.model import BUILTIN_VARIABLES, VAR_RX, Script, Step
from bot.dialog.yamlsafe import Document, Problem


def lint_document(doc: Document, script: Script) -> list[Problem]:
    problems: list[Problem] = []

    def err(path: tuple, message: str) -> None:
        problems.append(Problem(doc.line(path), message))

    steps = script.steps
    if script.start and script.start not in steps:
        err(("start",), f"start refers to unknown step {script.start!r}")

    # references
    for s in steps.values():
        if s.next and s.next not in steps:
            err(("steps", s.id, "next"), f"step {s.id!r}: next refers to unknown step {s.next!r}")
        for value, target in s.branches:
            if target not in steps:
                err(("steps", s.id, "branches", value), f"step {s.id!r}: branch {value!r} refers to unknown step {target!r}")

    # reachability and ends: checked once references are sound, since one misspelt step
    # name would otherwise also report every step after it as unreachable
    if not problems:
        _check_graph(script, err)

    # handlers' keys; each step by its action (bot.dialog.actions: asks' reprompts and keys, branches' slots)
    seen_keys: dict[str, str] = {}
    for name, h in script.handlers.items():
        if h.dtmf and h.dtmf in seen_keys:
            err(("handlers", name, "dtmf"), f"DTMF key {h.dtmf} is mapped twice (handlers {seen_keys[h.dtmf]} and {name})")
        elif h.dtmf:
            seen_keys[h.dtmf] = name
    for s in steps.values():
        action_for(s).lint(script, s, err)

    if script.settings.end_silence_complete > script.settings.end_silence:
        err(("settings", "end_silence_complete"), "settings: end_silence_complete must not be longer than end_silence")

    # variables
    known = set(script.variables) | set(BUILTIN_VARIABLES)
    for s in steps.values():
        for attr, path in _prompt_paths(s):
            text = attr
            allowed = known | ({"value"} if path[-1] == "prompt" and "confirm" in path else set())
            for var in VAR_RX.findall(text):
                if var not in allowed:
                    err(path, f"prompt uses undefined variable {{{var}}} (declare it under variables)")
    if script.resume is not None:
        if script.identity is None:
            err(("resume",), "resume is said only instead of an identity question, and this script has none "
                             "(its first question a yes/no whose no ends as wrong_number)")
        for var in VAR_RX.findall(script.resume):
            if var not in known:
                err(("resume",), f"resume uses undefined variable {{{var}}} (declare it under variables)")
    for name, h in script.handlers.items():
        for i, text in enumerate(h.say):
            for var in VAR_RX.findall(text):
                if var not in known:
                    err(("handlers", name, "say", i), f"prompt uses undefined variable {{{var}}} (declare it under variables)")
    return problems


def _check_graph(script: Script, err) -> None:
    """Unreachable steps, and steps with no way to an end step."""
    steps = script.steps
    # reachability from start
    reached = _reachable(script.start, steps)
    for s in steps.values():
        if s.id not in reached and script.start in steps:
            err(("steps", s.id), f"step {s.id!r} is unreachable from start {script.start!r}")

    # every step must have a way to an end step
    ends = {s.id for s in steps.values() if s.end}
    if not ends:
        err(("steps",), "the script has no end step")
    can_end = set(ends)
    changed = True
    while changed:
        changed = False
        for s in steps.values():
            if s.id not in can_end and any(t in can_end for t in s.targets()):
                can_end.add(s.id)
                changed = True
    for s in steps.values():
        if s.id not in can_end and ends:
            err(("steps", s.id), f"step {s.id!r} has no path to an end step")


def _reachable(start: str, steps: dict[str, Step]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        sid = todo.pop()
        if sid in seen or sid not in steps:
            continue
        seen.add(sid)
        todo += steps[sid].targets()
    return seen


def _prompt_paths(s: Step) -> list[tuple[str, tuple]]:
    base = ("steps", s.id)
    out = []
    if s.say:
        out.append((s.say, (*base, "say")))
    if s.prompt:
        out.append((s.prompt, (*base, "prompt")))
    for kind in ("no_input", "no_match"):
        out += [(t, (*base, "reprompts", kind, i)) for i, t in enumerate(getattr(s, kind))]
    if s.confirm:
        out.append((s.confirm.prompt, (*base, "confirm", "prompt")))
    return out
