"""A call conversation without a recognizer: prompts spoken with espeak-ng, answers by
keypad (RFC 4733). The fallback when no speech pipeline is configured, and the way the
telephony tests drive the real dialog engine over real SIP/RTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.calls import CallRequest
from bot.dialog.engine import Conversation
from bot.dialog.events import Action, CallRecord, Dtmf, End, Escalate, HangUp, Listen, NoInput, Say
from bot.telephony.call import SipCall
from bot.telephony.speech import synthesize

log = logging.getLogger(__name__)


async def keypad_conversation(call: SipCall, request: CallRequest, operator_uri: str = "") -> CallRecord:
    """Run the request's script over `call` until End or hang-up; returns the record."""
    conv = Conversation(request.script, request.person, request.variables, request.prefilled_slots, request.on_turn)
    keys: asyncio.Queue[str] = asyncio.Queue()
    call.media.on_dtmf = keys.put_nowait
    locale = request.script.locale
    escalation: Escalate | None = None
    actions: list[Action] = conv.start()
    while actions and not conv.finished:
        event: Any = None
        for action in actions:
            if isinstance(action, Say):
                await _say(call, action, locale)
            elif isinstance(action, Escalate):
                escalation = action
            elif isinstance(action, Listen):
                event = await _listen(call, keys, action)
            elif isinstance(action, End):
                event = None
        if conv.finished or event is None:
            break
        actions = conv.handle(event)
    if not conv.finished:  # hung up during a prompt
        conv.handle(HangUp())
    if escalation is not None and operator_uri and not call.ended.is_set():
        call.extra["transferred"] = await call.transfer(operator_uri)
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.media.drained(), 10)
    return conv.record


async def _say(call: SipCall, say: Say, locale: str) -> None:
    if call.ended.is_set():
        return
    try:
        pcm = await synthesize(say.text, locale)
    except RuntimeError as exc:
        log.error("prompt %s could not be spoken: %s", say.key, exc)
        return
    call.media.play(pcm)
    done = asyncio.ensure_future(call.media.drained())
    ended = asyncio.ensure_future(call.ended.wait())
    await asyncio.wait({done, ended}, return_when=asyncio.FIRST_COMPLETED)
    done.cancel()
    ended.cancel()


async def _listen(call: SipCall, keys: asyncio.Queue[str], listen: Listen) -> Any:
    """The next event: a key, no input after the timeout, or the far end's hang-up."""
    if call.ended.is_set():
        return HangUp()
    if not keys.empty():
        return Dtmf(keys.get_nowait())
    key = asyncio.ensure_future(keys.get())
    ended = asyncio.ensure_future(call.ended.wait())
    done, _ = await asyncio.wait({key, ended}, timeout=listen.no_input_timeout, return_when=asyncio.FIRST_COMPLETED)
    ended.cancel()
    if key in done:
        return Dtmf(key.result())
    key.cancel()
    if ended in done:
        return HangUp()
    return NoInput()
