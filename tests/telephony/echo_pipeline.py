"""A trivial pipeline standing in for the speech pipeline in transport tests."""

from __future__ import annotations

from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    OutputAudioRawFrame,
    OutputDTMFUrgentFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from bot.pipeline.frames import CallerHangUpFrame
from bot.telephony.detection.answering_machine import rms

TONE = (b"\x00\x20\x00\xe0") * 4000  # 1 s of a loud square-ish wave


class KeyEcho(FrameProcessor):
    """'1' -> play a second of tone; '2' -> barge-in; '#' -> echo the key and end the call."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []
        self.audio_in = 0
        self.hangup_seen = False
        self.chunk_sizes: set[int] = set()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.audio_in += len(frame.audio)
            self.chunk_sizes.add(len(frame.audio))
            return
        if isinstance(frame, InputDTMFFrame):
            key = frame.button.value
            self.keys.append(key)
            if key == "1":
                await self.push_frame(OutputAudioRawFrame(TONE * 3, 8000, 1))
            elif key == "2":
                await self.broadcast_interruption()
            elif key == "#":
                await self.push_frame(OutputDTMFUrgentFrame(button=frame.button))
                await self.push_frame(OutputAudioRawFrame(TONE, 8000, 1))
                await self.push_frame(EndFrame())
            return
        if isinstance(frame, CallerHangUpFrame):
            self.hangup_seen = True
        await self.push_frame(frame, direction)


def loud_frames(pcm: bytearray) -> int:
    return sum(rms(bytes(pcm[i : i + 320])) > 1000 for i in range(0, len(pcm), 320))


async def run_pipeline(transport, echo: KeyEcho) -> None:
    worker = PipelineWorker(Pipeline([transport.input(), echo, transport.output()]), idle_timeout_secs=None)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()
