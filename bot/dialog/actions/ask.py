"""`ask` (a question: `ask: <expect>`, `slot`, `prompt`, reprompts, keys, confirmation...) and its
output `Listen`, performed by a line's `listen`. How answers are understood once asked is the
engine's (bot.dialog.answering, asking, initiative)."""

from __future__ import annotations

from typing import Any

from bot.dialog.actions.spec import STOP, ActionSpec, Checker, Line, where
from bot.dialog.events import Listen
from bot.dialog.model import EXPECT_VALUES, RECOGNIZE, Confirm

KEYS = frozenset({"slot", "prompt", "reprompts", "dtmf", "confirm", "labels", "branches", "accept", "max_failures",
                  "no_input_timeout", "end_silence", "recognize", "end_silence_complete", "early", "title"})
_LIMITS = (("max_failures", 1, 10, True), ("no_input_timeout", 1, 60, False),
           ("end_silence", 0.2, 5, False), ("end_silence_complete", 0.1, 5, False))


def build(c: Checker, path: tuple, m: dict, kw: dict) -> None:
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
    kw["branches"] = c.branches(path, m.get("branches"), allowed)
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
    for key, lo, hi, integer in _LIMITS:
        if key in m:
            kw[key] = c.number(m[key], (*path, key), lo, hi, integer)
    if "early" in m:
        kw["early"] = _early(c, (*path, "early"), m["early"], expect)


def _early(c: Checker, path: tuple, raw: Any, expect: str) -> tuple[str, ...] | bool | None:
    """`early: false` (never filled from other answers) or a list of words to find near the value."""
    if raw is False:
        return False
    if isinstance(raw, list) and raw and all(isinstance(w, str) and w.strip() for w in raw):
        if expect == "text":
            c.err(path, "a free-text question is never filled from other answers (early: false or remove it)")
        return tuple(w.strip() for w in raw)
    c.err(path, f"{where(path)} must be false or a non-empty list of words (a yes/no question needs words)")
    return None


def lint(script: Any, s: Any, err: Any) -> None:
    for kind in ("no_input", "no_match"):
        if not getattr(s, kind):
            err(("steps", s.id), f"ask {s.id!r} has no {kind} reprompts (reprompts.{kind})")
    long = s.end_silence or script.settings.end_silence
    short = s.end_silence_complete or script.settings.end_silence_complete
    if short > long:
        at = ("steps", s.id, "end_silence_complete" if s.end_silence_complete else "end_silence")
        err(at, f"ask {s.id!r}: end_silence_complete ({short}) must not be longer than end_silence ({long})")
    handler_keys = {h.dtmf: name for name, h in script.handlers.items() if h.dtmf}
    for key, _ in s.dtmf:
        if key in handler_keys:
            err(("steps", s.id, "dtmf", key), f"DTMF key {key} is mapped twice (ask {s.id!r} and handler {handler_keys[key]})")


def enter(conv: Any, step: Any) -> object:
    """Ask the question, or go on past it when an earlier call answered it (a resumed call
    says the resume line instead of the identity question)."""
    slots = conv.record.slots
    if step.slot in conv.prefilled and slots.get(step.slot) is None:
        if step is not conv.identity:
            slots[step.slot] = conv.prefilled[step.slot]
        elif str(conv.prefilled[step.slot]) == "yes":  # "no" or anything else: asked again
            slots[step.slot] = "yes"
            conv.resumed = True
            # the earlier call was cut off (default); or the case was handed back, or the
            # resident called us back: nothing was cut off (the catalogue's handed_back line)
            after = "cut_off" if conv.vars.get("resume_after", "cut_off") == "cut_off" else "handed_back"
            conv._say(conv.script.resume_for(after) or "", "resume", step=None)
    if slots.get(step.slot) is not None:  # answered already: never asked again
        return dict(step.branches).get(str(slots[step.slot]), step.next)
    conv.last_prompts = []
    if step.slot in conv.tentative:  # heard early, not sure: confirm it in one sentence
        conv.phase, conv.pending = "confirm", conv.tentative.pop(step.slot)
        conv._say(step.confirm.prompt, f"{step.id}.confirm", value=step.label(conv.pending), remember=True)
        conv.emit(conv._listen())
        return STOP
    conv.phase = "ask"
    if step.say:
        conv._say(step.say, f"{step.id}.say", remember=True)
    conv._say(step.prompt, f"{step.id}.prompt", remember=True)
    conv.emit(conv._listen())
    return STOP


def listen(output: Listen, line: Line) -> Any:
    return line.listen(output)


ACTION = ActionSpec("ask", KEYS, build, enter, lint, outputs={Listen: listen}, order=1)
