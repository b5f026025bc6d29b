"""What the `Conversation` says and hears in its record (a mixin of it): the Listen for the
current question, prompts (rendered, remembered for repeating) and transcript turns."""

from __future__ import annotations

from typing import Any

from bot.dialog.events import Listen, Say, Speaker, Turn
from bot.dialog.model import render

_Base = object  # a mixin of bot.dialog.engine.Conversation (which imports this module)

CONFIRM_DTMF = {"1": "yes", "2": "no"}


class Speaking(_Base):
    def _listen(self) -> Listen:
        s, st = self.step, self.script.settings
        confirm = self.phase == "confirm"
        keys = tuple(CONFIRM_DTMF) if confirm else tuple(k for k, _ in s.dtmf)
        if not confirm and s.expect == "count" and not keys:
            keys = tuple("0123456789")
        keys += tuple(h.dtmf for h in self.script.handlers.values() if h.dtmf)
        expect, prefix = "yes_no" if confirm else s.expect, self.prefix
        return Listen(
            step=s.id,
            expect=expect,
            locale=self.script.locale,
            no_input_timeout=s.no_input_timeout or st.no_input_timeout,
            end_silence=s.end_silence or st.end_silence,
            dtmf_keys=keys,
            open_answer=not confirm and s.free_decoding,
            end_silence_complete=min(s.end_silence_complete or st.end_silence_complete, s.end_silence or st.end_silence),
            complete=lambda text: self.complete(expect, text, prefix),
        )

    def _say_handler(self, name: str) -> bool:
        handler = self.script.handlers.get(name)
        if not handler or not handler.say:
            return False
        n = self.handler_uses.get(name, 0)
        self.handler_uses[name] = n + 1
        i = min(n, len(handler.say) - 1)
        self._say(handler.say[i], f"handlers.{name}.{i}")
        return True

    def _say(self, template: str, key: str, value: str | None = None, remember: bool = False, reset: bool = False,
             **turn: Any) -> None:
        """`turn`: overrides for the transcript turn (step=None: said at no step, e.g. the resume line)."""
        variables = self.vars if value is None else {**self.vars, "value": value}
        say = Say(render(template, variables), key)
        if reset:
            self.last_prompts = []
        if remember:
            self.last_prompts.append(say)
        self._emit(say, **turn)

    def say(self, template: str, key: str) -> None:
        """Say a prompt of the current step (an action's: `say`, or its own sentence)."""
        self._say(template, key)

    def emit(self, output: Any) -> None:
        """Hand a driver an output (an action's: `Listen`, `Pause`, ...) after what came before."""
        self._out.append(output)

    def _emit(self, say: Say, **turn: Any) -> None:
        self._turn(Speaker.BOT, say.text, kind="prompt", **turn)
        self._out.append(say)

    def _turn(self, speaker: Speaker, text: str, **kw: Any) -> None:
        kw.setdefault("step", self.step.id if self.step else None)
        turn = Turn(speaker, text, **kw)
        if speaker == Speaker.CALLER:
            self._caller_turn = len(self.record.transcript)
        self.record.transcript.append(turn)
