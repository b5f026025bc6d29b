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
from bot.calls import CallRequest
from bot.dialog.events import Action, CallRecord, Dtmf, End, HangUp, Listen, NoInput, Say
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


async def keypad_conversation(call: SipCall, request: CallRequest) -> CallRecord:
    """Run the request's script over `call` until End or hang-up; returns the record."""
    conv = request.session()
    keys = Keys()
    call.media.on_dtmf = keys.press
    locale = request.script.locale
    public = public_texts(request.script, request.variables)  # the rest names the person: not cached
    actions: list[Action] = conv.start()
    while actions:
        event: Any = None
        for action in actions:
            if isinstance(action, Say):
                await _say(call, action, locale, keys, request.recordings, action.text in public)
            elif isinstance(action, Listen):
                event = await _listen(call, keys, action)
            elif isinstance(action, End):
                event = None
        if conv.finished or event is None:
            break
        actions = conv.feed(event)
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
    call.media.play(pcm)
    waits = [asyncio.ensure_future(call.media.drained()), asyncio.ensure_future(call.ended.wait())]
    if say.barge_in:
        waits.append(asyncio.ensure_future(keys.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    if say.barge_in and keys.pending:
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
