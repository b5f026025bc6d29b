"""Schema of a dialog script: checks a loaded YAML document key by key, with the line of
each problem, and builds the frozen `Script`."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

from bot.dialog.actions import Checker, actions, step_keys
from bot.dialog.actions.spec import where
from bot.dialog.catalogue import CatalogueError, catalogue_for
from bot.dialog.model import HANDLERS, Handler, Script, Settings, Step
from bot.dialog.yamlsafe import Document, Problem

# resume: said instead of the identity question on a call resumed after "yes" was stored (model.Script.identity)
TOP_KEYS = {"name", "locale", "description", "variables", "settings", "handlers", "start", "steps", "resume"}


def build(doc: Document, text: str, name: str) -> tuple[Script | None, list[Problem]]:
    c = Checker(doc)
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


def _settings(c: Checker, raw: Any) -> Settings:
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


def _handlers(c: Checker, raw: Any) -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for h, hv in c.mapping(raw, ("handlers",), set(HANDLERS)).items():
        path = ("handlers", h)
        m = c.mapping(hv, path, {"say", "dtmf", "limit"})
        dtmf = m.get("dtmf")
        if dtmf is not None and (not isinstance(dtmf, (str, int)) or str(dtmf) not in "0123456789*#"):
            c.err((*path, "dtmf"), f"{where((*path, 'dtmf'))} must be one key 0-9, * or #")
            dtmf = None
        limit = c.number(m["limit"], (*path, "limit"), 1, 10, True) if "limit" in m else None
        out[h] = Handler(c.texts(m.get("say"), (*path, "say")), None if dtmf is None else str(dtmf), limit or 0)
    return out


def _step(c: Checker, sid: str, raw: Any) -> Step | None:
    """One step, by its action (bot.dialog.actions): a step is the one action whose key it has,
    or a plain `say` step."""
    path = ("steps", sid)
    if not re.fullmatch(r"[A-Za-z_][\w-]*", sid):
        c.err(path, f"step id {sid!r} must be a word (letters, digits, _ or -)")
    m = c.mapping(raw, path, step_keys())
    table = [a for a in actions() if a.name != "say"]
    kinds = [a.name for a in table if a.name in m]
    if len(kinds) > 1:
        c.err(path, f"step {sid!r} can be only one of {'/'.join(a.name for a in table)}, not {' and '.join(kinds)}")
    kw: dict[str, Any] = {"id": sid, "line": c.doc.line(path), "action": kinds[0] if kinds else "say"}
    kw["say"] = c.text(m.get("say"), (*path, "say"))
    kw["next"] = c.text(m.get("next"), (*path, "next"))
    {a.name: a for a in actions()}[kw["action"]].build(c, path, m, kw)
    return Step(**kw)
