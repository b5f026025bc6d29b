"""Dialog scripts: safe YAML -> schema check -> frozen dataclasses.

The script is data: every prompt, reprompt, DTMF map, branch and escalation rule
lives in the YAML. `load_script` returns a `Script` only when `lint` found nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dialog.yamlsafe import Document, DocumentError, Problem, load_document

EXPECT_VALUES: dict[str, tuple[str, ...] | None] = {
    "yes_no": ("yes", "no"),
    "health_code": ("green", "yellow", "red"),
    "test_result": ("negative", "positive", "pending"),
    "count": None,  # integers
    "address": None,
    "text": None,
}
OPEN_EXPECTS = ("address", "text")
OUTCOMES = ("completed", "wrong_number", "escalated")
ESCALATION_REASONS = ("uncooperative", "requested_human", "unresolved")
BUILTIN_VARIABLES = ("agency", "caller_id", "callback_number")
HANDLERS = ("who", "repeat", "refuse", "human", "wrong_number", "escalate")
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
    # branch on an already filled slot
    branch_slot: str | None = None

    @property
    def is_ask(self) -> bool:
        return self.expect is not None

    def label(self, value: Any) -> str:
        return dict(self.labels).get(str(value), str(value))

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
        return out

    @property
    def variables_used(self) -> set[str]:
        return {v for _, t in self.prompt_templates() for v in VAR_RX.findall(t)}


def render(template: str, variables: dict[str, Any]) -> str:
    """Fill `{name}` placeholders; `{{`/`}}` are literal braces. Nothing is evaluated."""
    text = template.replace("{{", "\0").replace("}}", "\1")
    text = VAR_RX.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)
    return text.replace("\0", "{").replace("\1", "}")


def load_script(path: str | Path) -> Script:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError([Problem(1, f"cannot read {p}: {exc}")], str(p)) from None
    return load_script_text(text, name=str(p))


def load_script_text(text: str, name: str = "script") -> Script:
    from bot.dialog.lint import lint_document

    try:
        doc = load_document(text)
    except DocumentError as exc:
        raise ScriptError(exc.problems, name) from None
    script, problems = build(doc, text, name)
    problems += lint_document(doc, script) if script else []
    if problems or script is None:
        raise ScriptError(problems, name)
    return script


# ------------------------------------------------------------------ schema
class _Checker:
    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []

    def err(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.doc.line(path), message))

    def mapping(self, value: Any, path: tuple, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.err(path, f"{_where(path)} must be a mapping")
            return {}
        for k in value:
            if k not in allowed:
                self.err((*path, k), f"unknown key {k!r} in {_where(path)} (allowed: {', '.join(sorted(allowed))})")
        for k in sorted(required - set(value)):
            self.err(path, f"{_where(path)} needs {k!r}")
        return value

    def text(self, value: Any, path: tuple, optional: bool = True) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            self.err(path, f"{_where(path)} must be non-empty text")
            return None
        return value

    def texts(self, value: Any, path: tuple) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.err(path, f"{_where(path)} must be a list of prompts")
            return ()
        return tuple(t for i, v in enumerate(value) if (t := self.text(v, (*path, i), optional=False)))

    def number(self, value: Any, path: tuple, lo: float, hi: float, integer: bool = False) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (integer and not isinstance(value, int)) or not lo <= value <= hi:
            kind = "a whole number" if integer else "a number"
            self.err(path, f"{_where(path)} must be {kind} from {lo} to {hi}")
            return None
        return value


def _where(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "the document"


TOP_KEYS = {"name", "locale", "description", "variables", "settings", "handlers", "start", "steps"}
STEP_KEYS = {
    "say", "next", "end", "reason", "ask", "slot", "prompt", "reprompts", "dtmf", "confirm",
    "labels", "branches", "accept", "max_failures", "no_input_timeout", "end_silence", "branch",
}  # fmt: skip


def build(doc: Document, text: str, name: str) -> tuple[Script | None, list[Problem]]:
    c = _Checker(doc)
    top = c.mapping(doc.data, (), TOP_KEYS, {"name", "locale", "start", "steps"})
    settings = _settings(c, top.get("settings", {}))
    handlers = _handlers(c, top.get("handlers", {}))
    variables = top.get("variables", [])
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        c.err(("variables",), "variables must be a list of names")
        variables = []
    steps: dict[str, Step] = {}
    raw_steps = top.get("steps", {})
    if not isinstance(raw_steps, dict) or not raw_steps:
        c.err(("steps",), "steps must be a non-empty mapping of step ids")
        raw_steps = {}
    for sid, raw in raw_steps.items():
        step = _step(c, sid, raw)
        if step:
            steps[sid] = step
    locale = c.text(top.get("locale"), ("locale",), optional=False) or ""
    if locale and not re.fullmatch(r"[a-z]{2}-[A-Z]{2}", locale):
        c.err(("locale",), f"locale {locale!r} must look like zh-CN")
    script = Script(
        name=str(top.get("name", "")),
        locale=locale,
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
        source=text,
        start=str(top.get("start", "")),
        steps=steps,
        handlers=handlers,
        settings=settings,
        variables=tuple(variables),
        description=str(top.get("description", "")),
        path=name,
    )
    return script, c.problems


def _settings(c: _Checker, raw: Any) -> Settings:
    m = c.mapping(raw, ("settings",), {"max_failures", "no_input_timeout", "end_silence", "confirm_below"})
    kw: dict[str, Any] = {}
    for key, lo, hi, integer in (
        ("max_failures", 1, 10, True),
        ("no_input_timeout", 1, 60, False),
        ("end_silence", 0.2, 5, False),
        ("confirm_below", 0, 1, False),
    ):
        if key in m and (v := c.number(m[key], ("settings", key), lo, hi, integer)) is not None:
            kw[key] = v
    return Settings(**kw)


def _handlers(c: _Checker, raw: Any) -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for h, hv in c.mapping(raw, ("handlers",), set(HANDLERS)).items():
        path = ("handlers", h)
        m = c.mapping(hv, path, {"say", "dtmf", "limit"})
        dtmf = m.get("dtmf")
        if dtmf is not None and (not isinstance(dtmf, (str, int)) or str(dtmf) not in "0123456789*#"):
            c.err((*path, "dtmf"), f"{_where((*path, 'dtmf'))} must be one key 0-9, * or #")
            dtmf = None
        limit = c.number(m["limit"], (*path, "limit"), 1, 10, True) if "limit" in m else None
        out[h] = Handler(c.texts(m.get("say"), (*path, "say")), None if dtmf is None else str(dtmf), limit or 0)
    return out


def _step(c: _Checker, sid: str, raw: Any) -> Step | None:
    path = ("steps", sid)
    if not re.fullmatch(r"[A-Za-z_][\w-]*", sid):
        c.err(path, f"step id {sid!r} must be a word (letters, digits, _ or -)")
    m = c.mapping(raw, path, STEP_KEYS)
    kinds = [k for k in ("ask", "end", "branch") if k in m]
    if len(kinds) > 1:
        c.err(path, f"step {sid!r} can be only one of ask/end/branch, not {' and '.join(kinds)}")
    kw: dict[str, Any] = {"id": sid, "line": c.doc.line(path)}
    kw["say"] = c.text(m.get("say"), (*path, "say"))
    kw["next"] = c.text(m.get("next"), (*path, "next"))
    if "end" in m:
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
    elif "ask" in m:
        _ask(c, path, m, kw)
    elif "branch" in m:
        kw["branch_slot"] = c.text(m["branch"], (*path, "branch"), optional=False)
        kw["branches"] = _branches(c, path, m.get("branches"), None)
        if not kw["next"]:
            c.err(path, f"branch step {sid!r} needs next (the default when no branch matches)")
    elif not kw["say"]:
        c.err(path, f"step {sid!r} must say, ask, branch or end")
    elif not kw["next"]:
        c.err(path, f"step {sid!r} needs next or end")
    return Step(**kw)


def _ask(c: _Checker, path: tuple, m: dict, kw: dict) -> None:
    expect = m["ask"]
    if expect not in EXPECT_VALUES:
        c.err((*path, "ask"), f"ask must be one of {', '.join(EXPECT_VALUES)}, not {expect!r}")
        expect = "text"
    kw["expect"] = expect
    kw["slot"] = c.text(m.get("slot"), (*path, "slot"), optional=False)
    kw["prompt"] = c.text(m.get("prompt"), (*path, "prompt"), optional=False)
    rp = c.mapping(m.get("reprompts", {}), (*path, "reprompts"), {"no_input", "no_match"})
    kw["no_input"] = c.texts(rp.get("no_input"), (*path, "reprompts", "no_input"))
    kw["no_match"] = c.texts(rp.get("no_match"), (*path, "reprompts", "no_match"))
    allowed = EXPECT_VALUES[expect]
    dtmf = c.mapping(m.get("dtmf", {}), (*path, "dtmf"), set("0123456789*#"))
    pairs = []
    for key, value in dtmf.items():
        value = value if expect == "count" else str(value)
        if expect == "count" and not (isinstance(value, int) and value >= 0):
            c.err((*path, "dtmf", key), "a count DTMF key must map to a whole number")
        elif allowed and value not in allowed:
            c.err((*path, "dtmf", key), f"DTMF {key} maps to {value!r}; {expect} values are {', '.join(allowed)}")
        pairs.append((key, value))
    kw["dtmf"] = tuple(pairs)
    if "confirm" in m:
        cf = c.mapping(m["confirm"], (*path, "confirm"), {"prompt", "below"}, {"prompt"})
        below = c.number(cf.get("below", 0.6), (*path, "confirm", "below"), 0, 1)
        prompt = c.text(cf.get("prompt"), (*path, "confirm", "prompt"), optional=False)
        if prompt:
            kw["confirm"] = Confirm(prompt, below if below is not None else 0.6)
    labels = c.mapping(m.get("labels", {}), (*path, "labels"), set(allowed or ()) or set(m.get("labels", {}) or {}))
    kw["labels"] = tuple((str(k), str(v)) for k, v in labels.items())
    kw["branches"] = _branches(c, path, m.get("branches"), allowed)
    accept = m.get("accept", [])
    if not isinstance(accept, list) or (allowed and any(a not in allowed for a in accept)):
        c.err((*path, "accept"), f"accept must be a list of {expect} values")
        accept = []
    kw["accept"] = tuple(str(a) for a in accept)
    for key, lo, hi, integer in (("max_failures", 1, 10, True), ("no_input_timeout", 1, 60, False), ("end_silence", 0.2, 5, False)):
        if key in m:
            kw[key] = c.number(m[key], (*path, key), lo, hi, integer)


def _branches(c: _Checker, path: tuple, raw: Any, allowed: tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    m = c.mapping(raw, (*path, "branches"), set(allowed) if allowed else set(map(str, raw)) if isinstance(raw, dict) else set())
    out = []
    for k, v in m.items():
        t = c.text(v, (*path, "branches", k), optional=False)
        if t:
            out.append((str(k), t))
    return tuple(out)
