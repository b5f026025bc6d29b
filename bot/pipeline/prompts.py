"""PromptPlayer: turns PromptFrames into the call's audio from the prompt cache.

Fixed prompts were rendered when the dialog was loaded and person-specific ones before the
call, so a prompt is normally a memory lookup; a miss (a confirmation naming a value)
is synthesized off the event loop in the locale's voice (audio/synthesis.py). Audio leaves at the call's rate.

With `public` (prompt_texts.public_texts), a text outside it names the person: it is spoken
from `personal` (this call's memory) or synthesized without being cached, so erasing a
person leaves none of their audio behind (issue 24 item 3)."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import Executor
from typing import Any

from pipecat.frames.frames import Frame, TTSAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from audio.synthesis import PromptCache, SynthesisError
from bot.pipeline.frames import PromptFrame

log = logging.getLogger(__name__)


class PromptPlayer(FrameProcessor):
    def __init__(self, cache: PromptCache, executor: Executor, *, personal: dict[str, bytes] | None = None,
                 public: frozenset[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.cache = cache
        self.executor = executor
        self.personal = personal if personal is not None else {}
        self.public = public  # None: every text may be cached (no person named in this pipeline)
        self.spoken: list[str] = []
        self.on_audio: Any = None  # (text, pcm) of each prompt as it goes out (PlaybackLog.rendered)

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if not isinstance(frame, PromptFrame):
            await self.push_frame(frame, direction)
            return
        shared = self.public is None or frame.text in self.public
        if frame.silence and not frame.text:  # a pause: silence at the call's rate
            pcm = bytes(int(frame.silence * self.cache.sample_rate) * 2)
        else:
            pcm = self.cache.cached(frame.text) if shared else self.personal.get(frame.text)
        if pcm is None:
            try:
                loop = asyncio.get_running_loop()
                pcm = await loop.run_in_executor(self.executor, functools.partial(
                    self.cache.render, frame.text, store=shared))
            except SynthesisError as exc:
                log.error("prompt %s could not be synthesized: %s", frame.key, exc)
                return
            if not shared:
                self.personal[frame.text] = pcm
        self.spoken.append(frame.key)
        if self.on_audio is not None:
            self.on_audio(frame.text, pcm)
        await self.push_frame(TTSAudioRawFrame(audio=pcm, sample_rate=self.cache.sample_rate, num_channels=1))
