"""A call conversation without a recognizer: prompts in the locale's voice, answers by
keypad (RFC 4733). An escalation is an action for the runner (transfer or queue), seen by
its observer on the session; this driver only speaks and listens. The fallback when no speech pipeline is configured, and the way the
telephony tests drive the real dialog engine over real SIP/RTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from audio.recordings import speak_recorded
from audio.wav import CALL_RATE
from bot.calls import CallRequest
from bot.dialog.actions import perform_table
from bot.dialog.events import Action, CallRecord, Dtmf, End, Escalate, HangUp, Listen, NoInput, Say
from bot.pipeline.prompt_texts import public_texts
from bot.telephony.sip.call import SipCall

log = logging.getLogger(__name__)


class Keys:
    """Keys pressed and not yet used (type-ahead is kept)."""

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self._arrived = asyncio.Event()

    def press(self, digit: str) -> None:
        self.pending.append(digit)
        self._arrived.set()

    async def wait(self) -> None:
        while not self.pending:
            self._arrived.clear()
            await self._arrived.wait()


class _Line:
    """The keypad driver's line primitives (bot.dialog.actions.Line); `event` is what the caller
    did last (None: nothing more to wait for)."""

    def __init__(self, call: SipCall, request: CallRequest, keys: Keys) -> None:
        self.call, self.request, self.keys = call, request, keys
        self.public = public_texts(request.script, request.variables)  # the rest names the person: not cached
        self.event: Any = None

    async def speak(self, say: Say) -> None:
        r = self.request
        await _say(self.call, say, r.script.locale, self.keys, r.recordings, say.text in self.public)

    async def wait(self, seconds: float) -> None:
        """Silence on the line (RTP keeps flowing), cut short by a key like a prompt."""
        await _play(self.call, bytes(int(seconds * CALL_RATE) * 2), self.keys, barge_in=True)

    async def listen(self, listen: Listen) -> None:
        self.event = await _listen(self.call, self.keys, listen)

    async def escalate(self, escalate: Escalate) -> None:
        return None  # the runner's observer transfers or queues the case

    async def end(self, end: End) -> None:
        self.event = None


async def keypad_conversation(call: SipCall, request: CallRequest) -> CallRecord:
    """Run the request's script over `call` until End or hang-up; returns the record."""
    conv = request.session()
    keys = Keys()
    call.media.on_dtmf = keys.press
    line = _Line(call, request, keys)
    perform = perform_table(line)  # the dialog's outputs, by type
    actions: list[Action] = conv.start()
    while actions:
        line.event = None
        for action in actions:
            await perform[type(action)](action)
        if conv.finished or line.event is None:
            break
        actions = conv.feed(line.event)
    record = conv.close()  # hung up during a prompt: the dialog hears it
    if not call.ended.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.media.drained(), 10)
    return record


async def _say(call: SipCall, say: Say, locale: str, keys: Keys, recordings: Any = None,
               store: bool = True) -> None:
    """Speak a prompt to its end; a key pressed meanwhile cuts it short (type-ahead)."""
    if call.ended.is_set() or (say.barge_in and keys.pending):
        return
    try:
        pcm = await speak_recorded(say.text, locale, recordings, store)
    except RuntimeError as exc:
        log.error("prompt %s could not be spoken: %s", say.key, exc)
        return
    await _play(call, pcm, keys, say.barge_in)


async def _play(call: SipCall, pcm: bytes, keys: Keys, barge_in: bool) -> None:
    if call.ended.is_set() or (barge_in and keys.pending):
        return
    call.media.play(pcm)
    waits = [asyncio.ensure_future(call.media.drained()), asyncio.ensure_future(call.ended.wait())]
    if barge_in:
        waits.append(asyncio.ensure_future(keys.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    if barge_in and keys.pending:
        call.media.clear()


async def _listen(call: SipCall, keys: Keys, listen: Listen) -> Any:
    """The next event: a key, no input after the timeout, or the far end's hang-up."""
    if call.ended.is_set():
        return HangUp()
    if not keys.pending:
        waits = {asyncio.ensure_future(keys.wait()), asyncio.ensure_future(call.ended.wait())}
        await asyncio.wait(waits, timeout=listen.no_input_timeout, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
    if keys.pending:
        return Dtmf(keys.pending.popleft())
    return HangUp() if call.ended.is_set() else NoInput()
