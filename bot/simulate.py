"""Run one conversation as text: the answers file of `veribot simulate`, or a terminal chat."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.dialog.actions import perform_table
from bot.dialog.engine import Parser
from bot.dialog.events import Dtmf, Event, HangUp, NoInput, Say, Utterance
from bot.dialog.script import Script
from bot.dialog.session import CallSession, Observer

_CONF_RX = re.compile(r"^(.*?)\s+@(0(?:\.\d+)?|1(?:\.0+)?)\s*$")


class AnswerError(ValueError):
    pass


def parse_answer(line: str, lineno: int = 0) -> list[Event]:
    """One caller turn of an answers file -> events (a `dtmf:123` line presses three keys)."""
    text = line.strip()
    if text in ("", "<silence>"):
        return [NoInput()]
    if text == "<hangup>":
        return [HangUp()]
    if text.lower().startswith("dtmf:"):
        keys = text[5:].strip()
        if not keys or any(k not in "0123456789*#ABCD" for k in keys):
            raise AnswerError(f"line {lineno}: bad DTMF keys {keys!r}")
        return [Dtmf(k) for k in keys]
    confidence = 1.0
    m = _CONF_RX.match(text)
    if m:
        text, confidence = m.group(1).strip(), float(m.group(2))
    return [Utterance(text, confidence)]


def load_person(arg: str) -> dict[str, Any]:
    """--person takes inline JSON or a path to a JSON file."""
    raw = arg if arg.lstrip()[:1] in ("{", "[") else Path(arg).read_text(encoding="utf-8")
    try:
        person = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--person is not valid JSON: {exc}") from None
    if not isinstance(person, dict):
        raise ValueError("--person must be a JSON object")
    return person


class TextLine:
    """The text driver's line primitives (bot.dialog.actions.Line): prompts to `on_say`, pauses
    to `on_wait` and counted in `waited` (no clock: a text call does not wait)."""

    def __init__(self, on_say: Callable[[Say], None] | None = None,
                 on_wait: Callable[[float], None] | None = None) -> None:
        self.on_say, self.on_wait = on_say, on_wait
        self.waited: list[float] = []

    def speak(self, say: Say) -> None:
        if self.on_say:
            self.on_say(say)

    def wait(self, seconds: float) -> None:
        self.waited.append(seconds)
        if self.on_wait:
            self.on_wait(seconds)

    def listen(self, listen: Any) -> None:
        return None  # the next answer line is the caller's turn

    def escalate(self, escalate: Any) -> None:
        return None  # in the record

    def end(self, end: Any) -> None:
        return None  # in the record


def run_text(script: Script, person: dict, answers: Iterable[str], variables: dict | None = None,
             on_say: Callable[[Say], None] | None = None, *, prefilled_slots: dict | None = None,
             parser: Parser | None = None, observers: Iterable[Observer] = (),
             line: TextLine | None = None) -> CallSession:
    """Play answers (one caller turn per item) until the call ends; then the caller hangs up.
    Returns the closed session (`.record` is the call's record). `line`: where outputs go
    (default: prompts to `on_say`)."""
    session = CallSession(script, person, variables, prefilled_slots, parser=parser, observers=observers)
    perform = perform_table(line or TextLine(on_say))  # the dialog's outputs, by type

    def show(actions: list) -> None:
        for a in actions:
            perform[type(a)](a)

    show(session.start())
    lines = iter(answers)
    lineno = 0
    # the call's end is checked before the next answer is asked for: a terminal is not
    # prompted again after the goodbye
    while not session.finished and (line_text := next(lines, None)) is not None:
        lineno += 1
        for event in parse_answer(line_text, lineno):
            show(session.feed(event))
    session.close()
    return session


def interactive(script: Script, person: dict, variables: dict, stdin: TextIO, stdout: TextIO,
                parser: Parser | None = None) -> CallSession:
    """A terminal conversation: type answers; /dtmf 1, /silence, /hangup, /quit."""
    print("Type the caller's answers. Keys and silence: dtmf:1 (or /dtmf 1), <silence>, <hangup>."
          " Ctrl-D hangs up.", file=stdout)

    def say(a: Say) -> None:
        print(f"bot> {a.text}", file=stdout, flush=True)

    def lines() -> Iterable[str]:
        while True:
            stdout.write("you> ")
            stdout.flush()
            line = stdin.readline()
            if not line:
                return
            line = line.strip()
            if line.startswith("/dtmf"):
                yield "dtmf:" + line[5:].strip()
            elif line in ("/silence", "/s"):
                yield "<silence>"
            elif line in ("/hangup", "/quit", "/q"):
                yield "<hangup>"
            elif line:
                yield line

    def wait(seconds: float) -> None:
        print(f"bot> ({seconds:g} s pause)", file=stdout, flush=True)

    return run_text(script, person, _safe(lines(), stdout), variables, parser=parser, line=TextLine(say, wait))


def _safe(lines: Iterable[str], stdout: TextIO) -> Iterable[str]:
    for line in lines:
        try:
            parse_answer(line)
        except (AnswerError, ValueError) as exc:
            print(f"  ({exc}; try again)", file=stdout)
            continue
        yield line
