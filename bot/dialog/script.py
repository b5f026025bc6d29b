"""Dialog scripts: safe YAML -> schema check -> frozen dataclasses.

The script is data: every prompt, reprompt, DTMF map, branch and escalation rule
lives in the YAML. `load_script` returns a `Script` only when `lint` found nothing.
The dataclasses live in `bot.dialog.model` (re-exported here); `schema` builds them and
`lint` checks them, and neither imports this module (no import circle).
"""

from __future__ import annotations

from pathlib import Path

from bot.dialog.lint import lint_document
from bot.dialog.model import (
    BUILTIN_VARIABLES,
    ESCALATION_REASONS,
    EXPECT_VALUES,
    HANDLERS,
    OUTCOMES,
    RECOGNIZE,
    VAR_RX,
    Confirm,
    Handler,
    Script,
    ScriptError,
    Settings,
    Step,
    render,
)
from bot.dialog.schema import build
from bot.dialog.yamlsafe import DocumentError, Problem, load_document

__all__ = [
    "BUILTIN_VARIABLES", "ESCALATION_REASONS", "EXPECT_VALUES", "HANDLERS", "OUTCOMES", "RECOGNIZE", "VAR_RX",
    "Confirm", "Handler", "Script", "ScriptError", "Settings", "Step", "load_script", "load_script_text", "render",
]


def load_script(path: str | Path) -> Script:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError([Problem(1, f"cannot read {p}: {exc}")], str(p)) from None
    return load_script_text(text, name=str(p))


def load_script_text(text: str, name: str = "script") -> Script:
    try:
        doc = load_document(text)
    except DocumentError as exc:
        raise ScriptError(exc.problems, name) from None
    script, problems = build(doc, text, name)
    problems += lint_document(doc, script) if script else []
    if problems or script is None:
        raise ScriptError(problems, name)
    return script
