"""What one dialog action is (`ActionSpec`), what it is given to check its YAML (`Checker`)
and what every driver offers it to be performed on (`Line`).

An action module (`bot.dialog.actions.say`, `ask`, `branch`, `end`, ...) holds the whole of one
step kind: the step keys it adds and their schema (`build`), its checks beyond the schema
(`lint`), what the engine does when a call reaches such a step (`enter`), and the outputs it
emits with how a driver's line performs each (`outputs`). Pure: no I/O here or in an action."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.dialog.yamlsafe import Document, Problem

STOP = object()  # `enter`'s answer when the step waits for the caller or ended the call


class Line(Protocol):
    """The primitives every driver's line offers (sync in `simulate` and the console simulator,
    coroutines on a call: a driver awaits what `perform` returns when it is awaitable)."""

    def speak(self, say: Any) -> Any: ...  # bot.dialog.events.Say
    def listen(self, listen: Any) -> Any: ...  # bot.dialog.events.Listen: the caller's next event
    def wait(self, seconds: float) -> Any: ...  # hold the line, silent, this long
    def escalate(self, escalate: Any) -> Any: ...  # bot.dialog.events.Escalate
    def end(self, end: Any) -> Any: ...  # bot.dialog.events.End


Perform = Callable[[Any, Line], Any]  # (output, the driver's line) -> None or an awaitable


def _no_lint(script: Any, step: Any, err: Callable[[tuple, str], None]) -> None:
    return None


@dataclass(frozen=True)
class ActionSpec:
    """One step kind. `name` is the YAML key that makes a step this kind (`pause: 2`); the
    plain `say` step has no other key. `keys` are the step keys the action adds (every step
    may also have `say` and `next`). `build(checker, path, mapping, kw)` checks the step's
    mapping and fills the `Step` fields in `kw`; `enter(conversation, step)` returns the next
    step id, or STOP; `lint(script, step, err)` reports problems by YAML path."""

    name: str
    keys: frozenset[str]
    build: Callable[[Checker, tuple, dict, dict], None]
    enter: Callable[[Any, Any], Any]
    lint: Callable[[Any, Any, Callable[[tuple, str], None]], None] = _no_lint
    outputs: Mapping[type, Perform] = field(default_factory=dict)
    order: int = 100  # where it is named in messages ("say, ask, branch or end")


def where(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "the document"


class Checker:
    """Checks a loaded YAML document value by value, with the line of each problem."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []

    def err(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.doc.line(path), message))

    def mapping(self, value: Any, path: tuple, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.err(path, f"{where(path)} must be a mapping")
            return {}
        for k in value:
            if k not in allowed:
                self.err((*path, k), f"unknown key {k!r} in {where(path)} (allowed: {', '.join(sorted(allowed))})")
        for k in sorted(required - set(value)):
            self.err(path, f"{where(path)} needs {k!r}")
        return value

    def text(self, value: Any, path: tuple, optional: bool = True) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.err(path, f"{where(path)} must be non-empty text")
            return None
        return value

    def texts(self, value: Any, path: tuple) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.err(path, f"{where(path)} must be a list of prompts")
            return ()
        return tuple(t for i, v in enumerate(value) if (t := self.text(v, (*path, i), optional=False)))

    def number(self, value: Any, path: tuple, lo: float, hi: float, integer: bool = False) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (integer and not isinstance(value, int)) or not lo <= value <= hi:
            kind = "a whole number" if integer else "a number"
            self.err(path, f"{where(path)} must be {kind} from {lo} to {hi}")
            return None
        return value

    def branches(self, path: tuple, raw: Any, allowed: tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
        if raw is None:
            return ()
        keys = set(allowed) if allowed else set(map(str, raw)) if isinstance(raw, dict) else set()
        m = self.mapping(raw, (*path, "branches"), keys)
        out = []
        for k, v in m.items():
            t = self.text(v, (*path, "branches", k), optional=False)
            if t:
                out.append((str(k), t))
        return tuple(out)
