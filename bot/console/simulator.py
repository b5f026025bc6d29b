"""The editor's simulator panel: a draft script run as a chat, with the same engine and
the same answer syntax as `veribot simulate` (`dtmf:1`, `<silence>`, `<hangup>`,
`text @0.4`). Conversations live in memory, per admin, and expire."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bot.dialog.actions import perform_table
from bot.dialog.events import Action, End, Escalate, Listen, Say
from bot.dialog.script import Script
from bot.dialog.session import CallSession
from bot.dialog.speakable import with_sample_code
from bot.simulate import AnswerError, parse_answer

MAX_CHATS = 100
TTL_SECONDS = 1800.0


class ChatError(LookupError):
    pass


class _ChatLine:
    """The simulator's line primitives (bot.dialog.actions.Line): each output a chat line."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def speak(self, a: Say) -> None:
        self.lines.append({"who": "bot", "text": a.text})

    def wait(self, seconds: float) -> None:
        self.lines.append({"who": "system", "text": f"pause: {seconds:g} s", "event": "pause", "seconds": seconds})

    def listen(self, a: Listen) -> None:
        self.lines.append({"who": "system", "text": f"listening: {a.step} (expects {a.expect})",
                           "event": "listen", "step": a.step})

    def escalate(self, a: Escalate) -> None:
        self.lines.append({"who": "system", "text": f"escalated: {a.reason} at {a.step}",
                           "event": "escalate", "step": a.step, "reason": a.reason})

    def end(self, a: End) -> None:
        self.lines.append({"who": "system", "text": f"call ended: {a.outcome}", "event": "end", "outcome": a.outcome})


def describe(actions: list[Action]) -> list[dict[str, Any]]:
    """Actions as chat lines for the browser (one table, output type -> chat line)."""
    line = _ChatLine()
    perform = perform_table(line)
    for a in actions:
        perform[type(a)](a)
    return line.lines


@dataclass
class Chat:
    owner: int
    conversation: CallSession
    touched: float = field(default_factory=time.monotonic)

    def state(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        conv = self.conversation
        return {"lines": lines, "finished": conv.finished,
                "record": conv.record.to_json() if conv.finished else None}


@dataclass
class Simulator:
    chats: dict[str, Chat] = field(default_factory=dict)

    def start(self, owner: int, script: Script, person: dict[str, Any], variables: dict[str, str]
              ) -> tuple[str, dict[str, Any]]:
        self._expire()
        chat_id = secrets.token_urlsafe(12)
        conv = CallSession(script, person, with_sample_code(variables))  # never "{call_code}"
        chat = Chat(owner, conv)
        self.chats[chat_id] = chat
        return chat_id, chat.state(describe(conv.start()))

    def answer(self, owner: int, chat_id: str, line: str) -> dict[str, Any]:
        chat = self.chats.get(chat_id)
        if chat is None or chat.owner != owner:
            raise ChatError("this simulation has ended; start a new one")
        chat.touched = time.monotonic()
        try:
            events = parse_answer(line[:2000])
        except AnswerError as exc:
            return chat.state([{"who": "system", "text": str(exc)}])
        lines = [{"who": "caller", "text": line}]
        for event in events:
            lines += describe(chat.conversation.feed(event))
        if chat.conversation.finished:
            self.chats.pop(chat_id, None)
        return chat.state(lines)

    def _expire(self) -> None:
        now = time.monotonic()
        for k, chat in list(self.chats.items()):
            if now - chat.touched > TTL_SECONDS:
                del self.chats[k]
        while len(self.chats) >= MAX_CHATS:
            self.chats.pop(next(iter(self.chats)))

