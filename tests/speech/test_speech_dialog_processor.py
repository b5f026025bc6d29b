"""The dialog processor alone (pipecat's test harness, no audio): evidence of a turn the
recognizer found no words in is kept on the no-input turn that follows it."""

from __future__ import annotations

from pipecat.tests.utils import SleepFrame, run_test

from bot.dialog.session import CallSession
from bot.pipeline.dialog_processor import DialogProcessor
from bot.pipeline.frames import CallerAnswerFrame, CallerSpeechFrame, LineClockFrame


def clock(start: float, stop: float):
    return [LineClockFrame(at=round(t / 10, 1)) for t in range(int(start * 10), int(stop * 10))]


async def test_wordless_speech_is_kept_as_evidence_on_the_no_input_turn(short_script):
    conv = CallSession(short_script, {"name": "김민수"}, {"agency": "방역본부"})
    processor = DialogProcessor(conv)
    frames = [
        *clock(0.1, 6.0),  # the prompt never plays here: the processor listens after 5 s
        CallerSpeechFrame(started=True, at=6.0),
        CallerSpeechFrame(started=False, at=6.8),
        CallerAnswerFrame(text="", confidence=0.0, step="identity", speech_start=6.0, speech_end=6.8,
                          clip="var/calls/1/01-identity.wav"),
        SleepFrame(0.1),  # line clock frames are system frames: they would overtake the answer
        *clock(6.9, 16.0),  # 3 s of no input after it
    ]
    await run_test(processor, frames_to_send=frames)
    silent = [t for t in conv.record.transcript if t.kind == "silence"]
    assert silent and silent[0].audio == "var/calls/1/01-identity.wav"
    assert all(t.audio is None for t in silent[1:])  # the next question's silence has no clip
