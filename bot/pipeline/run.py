"""One call through the speech pipeline: the seam between telephony and speech.

    record = await run_call(transport, request, resources)

`transport` — a pipecat `BaseTransport` built by the telephony side (SIP/RTP, Twilio
websocket) or by `bot.pipeline.offline` (files, tests):
  * `transport.input()` pushes downstream `InputAudioRawFrame` (8000 Hz, mono, 16-bit
    little-endian PCM; any chunk size works, down to 1 sample). Prefer 60 ms frames (three
    RTP packets): per-frame pipeline overhead dominates, and 60 ms frames cost about a third
    of the CPU per call of 20 ms ones (`benchmarks/call_load.py --chunk-ms`), for at most
    40 ms more barge-in latency. Also `InputDTMFFrame` (RFC 4733
    or SIP INFO digits). When the far end hangs up (BYE, websocket close, media timeout)
    it pushes `bot.pipeline.frames.CallerHangUpFrame` downstream (a pushed `EndFrame`
    or `CancelFrame` is also taken as a hang-up).
  * `transport.output()` consumes `OutputAudioRawFrame`s (8000 Hz mono 16-bit PCM, the
    call's rate: no resampling anywhere in the call). On `InterruptionFrame` (barge-in)
    it drops every unsent byte at once. On `EndFrame` it sends what is queued, then hangs
    up (the goodbye prompt is fully sent before the BYE); on `CancelFrame` it hangs up at
    once. The bot never asks the transport for VAD: `TransportParams.vad_analyzer` stays None.
`request` — `bot.calls.CallRequest`: `script` (a loaded `Script`), `person`, `variables`,
  `prefilled_slots`, `parser`; the call runs as `request.session()`, whose observers get every
  turn and accepted answer as it happens (before the next action runs), so a crash mid-call
  leaves them stored.
`resources` — `SpeechResources`, one per process, built before the first call (and before
  forking worker processes, so the model's memory is shared):
      resources = SpeechResources.load(config, locales=["ko-KR"])
      resources.prepare(script)        # renders every fixed prompt into the prompt cache
  It holds the Vosk `Model`s (shared; each call makes its own recognizer), the recognition
  thread pool (`audio/scheduler.py`; restarts itself in a forked worker), the TTS worker and
  the on-disk prompt cache.

Returns the final `CallRecord` (outcome hung_up if the caller left first). Caller audio
of each answer is kept as `<audio_dir>/<nn>-<step>.wav` (8 kHz PCM) and named by its turn
(`Turn.audio`); `audio_dir` defaults to `call_audio_dir(resources, request)`. A watchdog ends a call whose pipeline makes no
progress for `watchdog_secs`; the record is complete before the line is dropped. If
the pipeline then cannot be stopped (a processor holds the EndFrame, which pipecat waits
for without limit), `run_call` calls the transport's optional `hang_up()` and returns the
record anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from pathlib import Path
from typing import Any

from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.workers.runner import WorkerRunner

from audio import call_recording
from audio.vad import SpeechDetector
from bot import nlu
from bot.calls import CallRequest
from bot.dialog.events import CallRecord, Listen
from bot.dialog.session import notify
from bot.pipeline.dialog_processor import DialogProcessor
from bot.pipeline.listener import CallerListener
from bot.pipeline.playback import PlaybackLog
from bot.pipeline.prompt_texts import public_texts, shared_variables
from bot.pipeline.prompts import PromptPlayer
from bot.pipeline.resources import SpeechResources

__all__ = ["SpeechResources", "call_audio_dir", "call_variables", "grammar_phrases_for", "run_call"]

log = logging.getLogger(__name__)
CALL_RATE = 8000
CANCEL_GRACE = 5.0  # seconds a cancelled pipeline gets to stop before it is abandoned
_ABANDONED: set[asyncio.Task] = set()  # pipelines stuck past cancelling (kept referenced)


def call_audio_dir(resources: SpeechResources, request: CallRequest) -> Path:
    return resources.settings.audio_dir / str(request.attempt_id)


def call_variables(request: CallRequest) -> dict[str, Any]:
    """What the call's prompts may name: the agency's variables and the person's fields, as the
    script's locale says them (bot.dialog.catalogue: phone numbers in groups, {callback_within})."""
    given = {**request.variables, **{k: v for k, v in request.person.items() if v is not None}}
    system = getattr(request.script, "system", None)
    return system.spoken(given, request.script.locale) if system is not None else given


def grammar_phrases_for(listen: Listen) -> list[str] | None:
    """The recognizer grammar for a question: None (free decoding) for open answers."""
    if listen.open_answer:
        return None
    return nlu.grammar_phrases(listen.locale, listen.expect) or None


async def run_call(
    transport: Any,
    request: CallRequest,
    resources: SpeechResources,
    *,
    audio_dir: Path | None = None,
    watchdog_secs: float | None = None,
) -> CallRecord:
    script = request.script
    recognizer = resources.recognizer(script.locale)
    loop = asyncio.get_running_loop()
    personal = resources.personal_audio(request)  # what names the person: this call's memory only
    await loop.run_in_executor(resources.executor, functools.partial(
        resources.prepare_opening, script, call_variables(request), request.recordings,
        shared=shared_variables(request.variables), personal=personal))

    clip_dir = audio_dir if audio_dir is not None else call_audio_dir(resources, request)
    clip_dir.mkdir(parents=True, exist_ok=True)
    recording = call_recording.start(transport, clip_dir) if request.record_call else None
    session = request.session()
    s = resources.settings
    listener = CallerListener(
        SpeechDetector(resources.silero, threshold=s.vad_threshold, energy_floor=s.energy_floor,
                       end_silence=script.settings.end_silence),
        recognizer,
        resources.recognition,
        grammar_phrases_for,
        clip_dir=clip_dir,
        line=getattr(transport, "line", None),
    )
    dialog = DialogProcessor(session)
    player = PromptPlayer(resources.prompt_cache(script.locale, request.recordings), resources.executor,
                          personal=personal, public=public_texts(script, request.variables))
    # seconds of bot audio the line has sent (the transport counts it): what decides a prompt complete
    dialog.playback = PlaybackLog(lambda note: _tell(session, note), clip_dir,
                                  carried=getattr(transport, "carried_seconds", None),
                                  now=getattr(transport, "line_seconds", None))
    player.on_audio = dialog.playback.rendered
    pipeline = Pipeline([transport.input(), listener, dialog, player, transport.output()])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=CALL_RATE, audio_out_sample_rate=CALL_RATE),
        enable_rtvi=False,
        enable_turn_tracking=False,
        idle_timeout_secs=None,
        cancel_on_idle_timeout=False,
        check_dangling_tasks=False,
    )
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    limit = watchdog_secs if watchdog_secs is not None else s.watchdog_secs
    running = asyncio.create_task(runner.run())
    watchdog = asyncio.create_task(_watchdog(worker, dialog, limit))
    try:
        await asyncio.wait({running, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():  # the watchdog cancelled the worker: give it a moment to unwind
            await asyncio.wait({running}, timeout=CANCEL_GRACE)
        if not running.done() and callable(getattr(transport, "hang_up", None)):
            log.error("call pipeline did not stop after cancelling: hanging up the line")
            transport.hang_up()  # a processor holds the end of the call; drop the line itself
            await asyncio.wait({running}, timeout=CANCEL_GRACE)
        if not running.done():  # still held: abandon the pipeline (kept referenced, logged)
            log.error("call pipeline did not stop %.0f s after cancelling: abandoned", CANCEL_GRACE)
            running.cancel()
            _ABANDONED.add(running)
            running.add_done_callback(_ABANDONED.discard)
    finally:
        for task in (watchdog, running):
            if task.done() or task in _ABANDONED:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if recording is not None:
            await recording.aclose()  # what is left of the whole call, and the file closed
    return dialog.close("call ended")


def _tell(session: Any, note: Any) -> None:
    """Hand a pipeline note (PromptPlayed) to the call's observers, as the session does its own."""
    notify(session.observers, note)


async def _watchdog(worker: PipelineWorker, dialog: DialogProcessor, limit: float) -> None:
    """Cancel a call whose pipeline has made no progress for `limit` seconds. The record is
    already complete up to that point (turns are handed out as they happen)."""
    while True:
        await asyncio.sleep(min(1.0, limit / 4))
        if time.monotonic() - dialog.last_progress > limit:
            log.warning("call pipeline made no progress for %.0f s: cancelling", limit)
            dialog.close("watchdog")
            await worker.cancel(reason="watchdog")
            return
