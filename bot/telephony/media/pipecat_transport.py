"""pipecat transport over one SIP call's RTP stream (the `transport` of
`bot.pipeline.run.run_call`). Input pushes 8 kHz `InputAudioRawFrame`s and
`InputDTMFFrame`s; output queues the bot's audio on the stream's 20 ms clock (silence
in between is the stream's job), drops unsent audio on interruption, sends the rest on
EndFrame and then hangs up."""

from __future__ import annotations

import asyncio
import contextlib

from pipecat.frames.frames import (
    CancelFrame,
    CancelWorkerFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputDTMFFrame,
    OutputDTMFUrgentFrame,
    StartFrame,
    StopFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

from audio.call_recording import CallRecording
from bot.telephony.sip.call import SipCall

SAMPLE_RATE = 8000
AHEAD_SECONDS = 0.06  # audio queued ahead of the clock: small, so barge-in cuts quickly
OUT_CHUNK_MS = 60  # the bot's audio handed to the line per write
HANGUP_GRACE = 2.0  # the pipeline's own time to record the hang-up and end


def _hangup_frame() -> Frame | None:
    try:
        from bot.pipeline.frames import CallerHangUpFrame  # speech engineer's frame
    except ImportError:
        return None
    return CallerHangUpFrame()


def call_params() -> TransportParams:
    return TransportParams(
        audio_in_enabled=True,
        audio_in_sample_rate=SAMPLE_RATE,
        audio_out_enabled=True,
        audio_out_sample_rate=SAMPLE_RATE,
        # pipecat's output sender costs two Tasks (asyncio.wait_for, Python 3.11) and a frame pushed
        # on per chunk: 60 ms chunks do that a third as often (issue 23). The RTP clock still sends
        # 20 ms packets; barge-in still drops everything unsent at once (RtpOutput.process_frame).
        audio_out_10ms_chunks=OUT_CHUNK_MS // 10,
        audio_out_end_silence_secs=0,
    )


class RtpInput(BaseInputTransport):
    def __init__(self, call: SipCall, params: TransportParams, chunk_ms: int = 20) -> None:
        super().__init__(params, name="RtpInput")
        self._call = call
        self._watch: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._heard: asyncio.Queue[InputAudioRawFrame] = asyncio.Queue()  # datagram callback -> pump
        self._chunk_bytes = max(1, chunk_ms // 20) * 320  # caller audio pushed in chunks of this size
        self._pending = bytearray()
        self.recording: CallRecording | None = None  # the whole call on record: caller side
        self.received = 0  # samples of caller audio received: the line clock, current to the packet
        self._stopped = False  # a StopFrame paused input: no audio downstream until the next start

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        self._stopped = False
        await self.set_transport_ready(frame)
        media = self._call.media
        media.on_audio = self._on_audio
        media.on_dtmf = self._on_dtmf
        if self._pump is None:
            self._pump = self.create_task(self._pump_audio())
        if self._watch is None:
            self._watch = self.create_task(self._watch_hangup())

    def _on_audio(self, pcm: bytes) -> None:
        """From the RTP socket's callback (sync): queue the chunk for the pump."""
        self.received += len(pcm) // 2
        if self.recording is not None:
            self.recording.heard(pcm)
        self._pending += pcm
        if len(self._pending) < self._chunk_bytes:
            return
        pcm, self._pending = bytes(self._pending), bytearray()
        self._heard.put_nowait(InputAudioRawFrame(audio=pcm, sample_rate=SAMPLE_RATE, num_channels=1))

    async def _pump_audio(self) -> None:
        """Push caller audio downstream in arrival order, straight from this task.
        Not through `push_audio_frame`: in pipecat 1.14 that queues each frame for a second task
        whose `asyncio.wait_for(queue.get())` makes a Task and a timer per frame on Python 3.11
        (issue 23: per 20 ms of every call); that task does nothing else for us (no filter, no
        VAD in the transport). Its two checks are kept: audio input enabled, not paused."""
        while True:
            frame = await self._heard.get()
            if self._params.audio_in_enabled and not self._stopped:
                await self.push_frame(frame)

    def _on_dtmf(self, digit: str) -> None:
        from pipecat.audio.dtmf.types import KeypadEntry

        with contextlib.suppress(ValueError):
            self.create_task(self.push_frame(InputDTMFFrame(button=KeypadEntry(digit))))

    async def _watch_hangup(self) -> None:
        """Far end gone: tell the pipeline (it records the hang-up and ends itself); if it
        has not ended after HANGUP_GRACE, cancel it."""
        await self._call.ended.wait()
        if self._call.end_reason == "local_hangup":
            return
        frame = _hangup_frame()
        if frame is not None:
            await self.push_frame(frame)
            await asyncio.sleep(HANGUP_GRACE)
        await self.push_frame(CancelWorkerFrame(reason="far end hung up"), FrameDirection.UPSTREAM)

    async def _stop_watch(self) -> None:
        media = self._call.media
        media.on_audio = None
        media.on_dtmf = None
        if self._pump is not None:
            await self.cancel_task(self._pump)
            self._pump = None
        if self._watch is not None:
            await self.cancel_task(self._watch)
            self._watch = None

    async def pause(self, frame: StopFrame) -> None:
        self._stopped = True
        await super().pause(frame)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._stop_watch()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._stop_watch()


class RtpOutput(BaseOutputTransport):
    def __init__(self, call: SipCall, params: TransportParams, hang_up_at_end: bool = True) -> None:
        super().__init__(params, name="RtpOutput")
        self._call = call
        self._hang_up_at_end = hang_up_at_end

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        media = self._call.media
        if media.closed:
            return False
        media.play(frame.audio)
        await media.wait_queue_below(AHEAD_SECONDS)
        return True

    def _supports_native_dtmf(self) -> bool:
        return True

    async def _write_dtmf_native(self, frame: OutputDTMFFrame | OutputDTMFUrgentFrame) -> None:
        self._call.media.send_dtmf(str(frame.button.value))

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InterruptionFrame):
            self._call.media.clear()
        await super().process_frame(frame, direction)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)  # sends what is queued in pipecat
        media = self._call.media
        if not media.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(media.drained(), timeout=10)
            await asyncio.sleep(0.06)  # the last packet leaves on the next tick
        if self._hang_up_at_end:
            self._call.hangup()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        self._call.media.clear()
        self._call.hangup()


class RtpCallTransport(BaseTransport):
    """The pipecat face of one SIP call."""

    def __init__(self, call: SipCall, params: TransportParams | None = None, hang_up_at_end: bool = True,
                 input_chunk_ms: int = 20) -> None:
        """`hang_up_at_end=False`: after the goodbye is sent the line stays up for whoever
        supervises the call (transfer to an operator, then `SipEndpoint.supervise` hangs up).
        `input_chunk_ms` (20, 40, 60): caller audio is pushed in chunks of that length; longer
        chunks cost the pipeline less per second of audio and add that much delay."""
        super().__init__(name="RtpCallTransport")
        self.call = call
        p = params or call_params()
        self._input = RtpInput(call, p, input_chunk_ms)
        self._output = RtpOutput(call, p, hang_up_at_end)

    def carried_seconds(self) -> float:
        """Seconds of the bot's audio this call's line has sent (PlaybackLog: what was played)."""
        return self.call.media.audio_sent / (2 * SAMPLE_RATE)

    def line_seconds(self) -> float:
        """The line clock now (seconds of caller audio received), for the PlaybackLog's times."""
        return self._input.received / SAMPLE_RATE

    def record_to(self, recording: CallRecording) -> None:
        """Keep the whole call: the caller's audio as heard, the bot's as each 20 ms leaves."""
        self._input.recording = recording
        self.call.media.on_sent = recording.sent

    def input(self) -> RtpInput:
        return self._input

    def output(self) -> RtpOutput:
        return self._output
