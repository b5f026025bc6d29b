"""The dialog's actions as a table: one module per step kind, found by looking in this package.

Adding an action is adding a module here that defines `ACTION` (a `spec.ActionSpec`): its
schema, lint, engine behaviour and the outputs it emits with how a line performs them. The
schema (`bot.dialog.schema`), lint (`bot.dialog.lint`), engine (`bot.dialog.engine`) and every
driver (each dispatches outputs through `perform_table`) read them from here; none names an
action. `register` adds one from elsewhere (a plug-in, a test) the same way."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from bot.dialog.actions.spec import STOP, ActionSpec, Checker, Line

__all__ = ["STOP", "ActionSpec", "Checker", "Line", "action_for", "actions", "perform_table", "register",
           "step_keys", "unregister"]

_TABLE: dict[str, ActionSpec] = {}
_found = False
_BASE_KEYS = frozenset({"say", "next"})  # every step may say something and go on


def _discover() -> None:
    global _found
    if _found:
        return
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "ACTION", None)
        if isinstance(spec, ActionSpec):
            _TABLE.setdefault(spec.name, spec)
    _found = True


def register(spec: ActionSpec) -> ActionSpec:
    """Add an action defined outside this package (its name must be new)."""
    _discover()
    if spec.name in _TABLE and _TABLE[spec.name] is not spec:
        raise ValueError(f"a dialog action named {spec.name!r} exists already")
    _TABLE[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _TABLE.pop(name, None)


def actions() -> list[ActionSpec]:
    """Every action, in the order messages name them."""
    _discover()
    return sorted(_TABLE.values(), key=lambda s: (s.order, s.name))


def action_for(step: Any) -> ActionSpec:
    _discover()
    return _TABLE[step.kind]


def step_keys() -> set[str]:
    """Every key a step may have."""
    return set(_BASE_KEYS).union(*(s.keys | {s.name} for s in actions()))


def perform_table(line: Line) -> dict[type, Callable[[Any], Any]]:
    """A driver's one table: output type -> perform it on this line (returns what the line
    returns: an awaitable on a call)."""

    def bound(perform: Callable[[Any, Line], Any]) -> Callable[[Any], Any]:
        return lambda output: perform(output, line)

    return {kind: bound(perform) for spec in actions() for kind, perform in spec.outputs.items()}
