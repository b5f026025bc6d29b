"""How a SIP call's conversation runs, as one typed object: the conversation itself, what it
renders before the call is placed (`prepare`) and how it hears the call's opening for carrier
announcements and answering machines (`transcribe`, None: timing alone).

    runner = SipCallRunner(endpoint, SpeechConversation(resources))   # production
    runner = SipCallRunner(endpoint)                                  # keypad only (no recognizer)
    runner = SipCallRunner(endpoint, my_coroutine_function)           # tests: wrapped as a Conversation
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.calls import CallRequest
from bot.dialog.events import CallRecord
from bot.telephony.sip.call import SipCall

Converse = Callable[[SipCall, CallRequest], Awaitable[CallRecord]]
Transcribe = Callable[[bytes, str], str]  # (8 kHz PCM, locale) -> text; runs in a worker thread


class Conversation:
    """A call's conversation. `transcribe` is None when it has no ear for free speech."""

    transcribe: Transcribe | None = None

    async def __call__(self, call: SipCall, request: CallRequest) -> CallRecord:
        raise NotImplementedError

    async def prepare(self, request: CallRequest) -> None:
        """Render what the call needs before it is placed (nothing by default)."""


class PlainConversation(Conversation):
    """A coroutine function `(call, request) -> CallRecord` as a Conversation (keypad, tests)."""

    def __init__(self, run: Converse) -> None:
        self.run = run

    async def __call__(self, call: SipCall, request: CallRequest) -> CallRecord:
        return await self.run(call, request)


def as_conversation(converse: Conversation | Converse) -> Conversation:
    return converse if isinstance(converse, Conversation) else PlainConversation(converse)


class SpeechConversation(Conversation):
    """Converse through the speech pipeline (`bot.pipeline.run.run_call`) over RTP."""

    def __init__(self, resources: Any, input_chunk_ms: int = 20) -> None:
        self.resources = resources
        self.input_chunk_ms = input_chunk_ms
        self.transcribe = self._transcribe

    async def __call__(self, call: SipCall, request: CallRequest) -> CallRecord:
        from bot.pipeline.run import call_audio_dir, run_call
        from bot.telephony.media.pipecat_transport import RtpCallTransport

        transport = RtpCallTransport(call, hang_up_at_end=False, input_chunk_ms=self.input_chunk_ms)
        call.audio_dir = str(call_audio_dir(self.resources, request))  # the answers' clips
        return await run_call(transport, request, self.resources)

    async def prepare(self, request: CallRequest) -> None:
        """Render the call's opening (greeting and first question, the person's name in them too)
        before it is placed, so the callee never waits for synthesis after answering; the rest
        of the script warms in the background."""
        from bot.pipeline.prompt_texts import shared_variables
        from bot.pipeline.run import call_variables

        resources = self.resources
        await asyncio.get_running_loop().run_in_executor(resources.executor, functools.partial(
            resources.prepare_opening, request.script, call_variables(request), request.recordings,
            shared=shared_variables(request.variables), personal=resources.personal_audio(request)))

    def _transcribe(self, pcm: bytes, locale: str) -> str:
        """The call's opening as the locale's ear hears it (free speech): carrier announcements
        and AMD's words (bot.telephony.detection.answering_machine). Runs in a worker thread, never on the loop."""
        rec = self.resources.recognizer(locale)
        try:
            rec.expect(None)
            rec.accept(pcm)
            return rec.finish().text
        finally:
            rec.close()


def speech_conversation(resources: Any, input_chunk_ms: int = 20) -> SpeechConversation:
    return SpeechConversation(resources, input_chunk_ms)
