"""A dialog script as data: the frozen dataclasses `Script`, `Step`, `Handler`, the names a
script may use, `render` for its prompts and `ScriptError`. Loading and checking a script's YAML
is `bot.dialog.script` (which uses `schema` and `lint`; both build on this module only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.dialog.yamlsafe import Problem

EXPECT_VALUES: dict[str, tuple[str, ...] | None] = {
    "yes_no": ("yes", "no"),
    "health_code": ("green", "yellow", "red"),
    "test_result": ("negative", "positive", "pending"),
    "count": None,  # integers
    "address": None,
    "text": None,
    "contacts": None,  # a list of {"name", "relation", "phone"}; [] when nobody is named
    "places": None,  # a list of {"place", "when"}
}
# How a question's answer is recognized: "grammar" (phrases the locale's understanding
# offers for it; free decoding where it offers none) or "free" (the whole vocabulary).
# Default: grammar, except free text.
RECOGNIZE = ("grammar", "free")
OUTCOMES = ("completed", "wrong_number", "escalated", "do_not_call")
ESCALATION_REASONS = ("uncooperative", "requested_human", "unresolved")
BUILTIN_VARIABLES = ("agency", "caller_id", "callback_number", "badge", "call_code",  # call_code: per attempt
                     "callback_within", "callback_minutes",
                     "contact")  # contact: the name of the contact asked for a number (handler ask_phone)
# human_callback: said instead of `human` when no operator line is configured (variable operator_line "")
# confirm_not_person / ask_district / ask_phone / unsure: what only answers may be stored (bot.dialog.answering)
HANDLERS = ("who", "repeat", "refuse", "human", "human_callback", "wrong_number", "do_not_call", "escalate",
            "corrected", "confirm_not_person", "ask_district", "ask_phone", "unsure")
VAR_RX = re.compile(r"\{(\w+)\}")
class ScriptError(ValueError):
    """A script that cannot run. `.errors` are line-numbered `Problem`s."""

    def __init__(self, errors: list[Problem], name: str = "script"):
        self.errors = sorted(errors, key=lambda p: (p.line, p.message))
        self.name = name
        super().__init__("\n".join(f"{name}:{p.line}: {p.message}" for p in self.errors))


@dataclass(frozen=True)
class Settings:
    max_failures: int = 3
    no_input_timeout: float = 6.0
    end_silence: float = 0.8
    end_silence_complete: float = 0.2  # silence that ends a turn already heard as a complete answer
    confirm_below: float = 0.0  # 0 = never confirm by default


@dataclass(frozen=True)
class Handler:
    say: tuple[str, ...] = ()  # one prompt per occurrence; the last repeats
    dtmf: str | None = None
    limit: int = 0  # refuse: escalate at this many refusals


@dataclass(frozen=True)
class Confirm:
    prompt: str
    below: float


@dataclass(frozen=True)
class Step:
    id: str
    line: int
    say: str | None = None
    next: str | None = None
    end: str | None = None  # outcome for an end step
    reason: str | None = None  # escalation reason when end == escalated
    # ask
    expect: str | None = None
    slot: str | None = None
    prompt: str | None = None
    no_input: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    dtmf: tuple[tuple[str, Any], ...] = ()
    confirm: Confirm | None = None
    labels: tuple[tuple[str, str], ...] = ()
    branches: tuple[tuple[str, str], ...] = ()
    accept: tuple[str, ...] = ()
    max_failures: int | None = None
    no_input_timeout: float | None = None
    end_silence: float | None = None
    end_silence_complete: float | None = None
    # Filled from answers to other questions (mixed initiative): None = the default for the
    # expect (specific values yes, yes/no and text no); False = never; words = only near them.
    early: tuple[str, ...] | bool | None = None
    recognize: str | None = None  # one of RECOGNIZE; None: the default for the expect
    title: str | None = None  # the answer's short name for people (console, exports): "健康码"
    # branch on an already filled slot
    branch_slot: str | None = None
    action: str = ""  # the step's kind (a bot.dialog.actions name); "": read from the fields above
    params: tuple[tuple[str, Any], ...] = ()  # an action's own values, e.g. (("seconds", 2),) for pause

    @property
    def kind(self) -> str:
        if self.action:
            return self.action
        return "ask" if self.expect else "end" if self.end else "branch" if self.branch_slot else "say"

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    @property
    def is_ask(self) -> bool:
        return self.expect is not None

    def label(self, value: Any) -> str:
        if isinstance(value, dict):  # an address: as heard
            return str(value.get("raw") or "")
        if isinstance(value, list):  # contacts / places: the names or places, in order
            return "、".join(str(v.get("name") or v.get("place") or "") for v in value if isinstance(v, dict))
        return dict(self.labels).get(str(value), str(value))

    @property
    def early_words(self) -> tuple[str, ...] | None:
        """Words for `bot.nlu.early.snippets`, or None when this question is never filled early."""
        if self.early is False or (self.early is None and self.expect in ("yes_no", "text")):
            return None
        return self.early if isinstance(self.early, tuple) else ()

    @property
    def free_decoding(self) -> bool:
        return self.recognize == "free" or (self.recognize is None and self.expect == "text")

    def targets(self) -> list[str]:
        out = [t for _, t in self.branches]
        if self.next:
            out.append(self.next)
        return out


@dataclass(frozen=True)
class Script:
    name: str
    locale: str
    version: str
    source: str
    start: str
    steps: dict[str, Step]
    handlers: dict[str, Handler]
    settings: Settings
    variables: tuple[str, ...] = ()
    description: str = ""
    path: str | None = None
    resume: str | None = None  # the script's `resume:` text; None: its catalogue's (see resume_for)
    # the system's own sentences in this locale (bot.dialog.catalogue.Catalogue; set by the loader)
    system: Any = field(default=None, compare=False, repr=False)

    @cached_property
    def identity(self) -> Step | None:
        """The identity question ("are you {name}?"), or None: the first question a cooperative
        caller meets, a yes/no whose "no" ends the call as a wrong number (through say steps).

        A call resumed after an earlier one stored "yes" here does not ask it again: it says
        `resume_text` (naming the person, as the question would) and goes on at the first
        question not answered yet. Whoever answers saying they are not the person, at any
        question, takes this question's "no" way (bot.dialog.engine)."""
        first = next(self.asks_in_order(), None)
        if first is None or first.expect != "yes_no":
            return None
        sid, seen = dict(first.branches).get("no", first.next), set()
        while sid in self.steps and sid not in seen:
            seen.add(sid)
            step = self.steps[sid]
            if step.is_ask or step.branch_slot:
                return None
            if step.end:
                return first if step.end == "wrong_number" else None
            sid = step.next
        return None

    @property
    def resume_text(self) -> str | None:
        """What a call resumed after a cut-off says instead of the identity question (None: no
        identity question)."""
        return self.resume_for("cut_off")

    def resume_for(self, after: str) -> str | None:
        """The resume line after "cut_off" (the script's `resume:` or its catalogue's) or
        "handed_back" (an operator gave the case back: nothing was cut off; the catalogue's)."""
        if self.identity is None:
            return None
        if after == "cut_off" and self.resume:
            return self.resume
        key = f"resume.{after}" + ("" if "name" in self.variables else "_unnamed")
        return self.system.sentences[key] if self.system is not None else None

    def asks_in_order(self):
        """Ask steps in the order a cooperative caller meets them (following next)."""
        seen, sid = set(), self.start
        while sid and sid in self.steps and sid not in seen:
            seen.add(sid)
            step = self.steps[sid]
            if step.is_ask:
                yield step
            sid = step.next

    def prompt_templates(self) -> list[tuple[str, str]]:
        """(key, template) of every prompt the script can say, for pre-rendering."""
        out: list[tuple[str, str]] = []
        for s in self.steps.values():
            for attr in ("say", "prompt"):
                if getattr(s, attr):
                    out.append((f"{s.id}.{attr}", getattr(s, attr)))
            for kind in ("no_input", "no_match"):
                out += [(f"{s.id}.{kind}.{i}", t) for i, t in enumerate(getattr(s, kind))]
            if s.confirm:
                out.append((f"{s.id}.confirm", s.confirm.prompt))
        for h, handler in self.handlers.items():
            out += [(f"handlers.{h}.{i}", t) for i, t in enumerate(handler.say)]
        for after in ("cut_off", "handed_back"):
            text = self.resume_for(after)
            if text:
                out.append(("resume" if after == "cut_off" else f"resume.{after}", text))
        return out

    @property
    def variables_used(self) -> set[str]:
        return {v for _, t in self.prompt_templates() for v in VAR_RX.findall(t)}


def render(template: str, variables: dict[str, Any]) -> str:
    """Fill `{name}` placeholders; `{{`/`}}` are literal braces. Nothing is evaluated."""
    text = template.replace("{{", "\0").replace("}}", "\1")
    text = VAR_RX.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)
    return text.replace("\0", "{").replace("\1", "}")
