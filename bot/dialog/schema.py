"""Schema of a dialog script: checks a loaded YAML document key by key, with the line of
each problem, and builds the frozen `Script`."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

from bot.dialog.catalogue import CatalogueError, catalogue_for
from bot.dialog.model import (
    ESCALATION_REASONS,
    EXPECT_VALUES,
    HANDLERS,
    OUTCOMES,
    RECOGNIZE,
    Confirm,
    Handler,
    Script,
    Settings,
    Step,
)
from bot.dialog.yamlsafe import Document, Problem


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


# resume: said instead of the identity question on a call resumed after "yes" was stored (model.Script.identity)
TOP_KEYS = {"name", "locale", "description", "variables", "settings", "handlers", "start", "steps", "resume"}
STEP_KEYS = {
    "say", "next", "end", "reason", "ask", "slot", "prompt", "reprompts", "dtmf", "confirm",
    "labels", "branches", "accept", "max_failures", "no_input_timeout", "end_silence", "branch", "recognize",
    "end_silence_complete", "early", "title",
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
        resume=c.text(top.get("resume"), ("resume",)),
    )
    if locale and not c.problems:  # the system's sentences in its locale (bot.dialog.catalogue)
        try:
            script = dataclasses.replace(script, system=catalogue_for(locale, beside=_beside(name)))
        except CatalogueError as exc:
            c.err(("locale",), f"the system catalogue of {locale}: {exc}")
    return script, c.problems


def _beside(name: str) -> Path | None:
    """The script's file when `name` is one (its catalogue is looked for beside it)."""
    try:
        return Path(name) if name and Path(name).is_file() else None
    except (OSError, ValueError):
        return None


def _settings(c: _Checker, raw: Any) -> Settings:
    m = c.mapping(raw, ("settings",), {"max_failures", "no_input_timeout", "end_silence", "end_silence_complete",
                                       "confirm_below"})
    kw: dict[str, Any] = {}
    for key, lo, hi, integer in (
        ("max_failures", 1, 10, True),
        ("no_input_timeout", 1, 60, False),
        ("end_silence", 0.2, 5, False),
        ("end_silence_complete", 0.1, 5, False),
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
    kw["title"] = c.text(m.get("title"), (*path, "title"))  # shown to staff, never spoken
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
    if "recognize" in m:
        if m["recognize"] not in RECOGNIZE:
            c.err((*path, "recognize"), f"recognize must be one of {', '.join(RECOGNIZE)}, not {m['recognize']!r}")
        else:
            kw["recognize"] = m["recognize"]
    for key, lo, hi, integer in (("max_failures", 1, 10, True), ("no_input_timeout", 1, 60, False),
                                 ("end_silence", 0.2, 5, False), ("end_silence_complete", 0.1, 5, False)):
        if key in m:
            kw[key] = c.number(m[key], (*path, key), lo, hi, integer)
    if "early" in m:
        kw["early"] = _early(c, (*path, "early"), m["early"], expect)


def _early(c: _Checker, path: tuple, raw: Any, expect: str) -> tuple[str, ...] | bool | None:
    """`early: false` (never filled from other answers) or a list of words to find near the value."""
    if raw is False:
        return False
    if isinstance(raw, list) and raw and all(isinstance(w, str) and w.strip() for w in raw):
        if expect == "text":
            c.err(path, "a free-text question is never filled from other answers (early: false or remove it)")
        return tuple(w.strip() for w in raw)
    c.err(path, f"{_where(path)} must be false or a non-empty list of words (a yes/no question needs words)")
    return None


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
