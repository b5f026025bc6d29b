"""Barge-in with the shipped ko-KR script on a realtime line (caller frames at wall-clock pace, as
a phone sends them): the caller talks over the bot's opening and the bot stops talking, drops what
it had queued, and takes the answer. Complements test_speech_call.py's barge-in test (offline line,
short script, the 400 ms bound on the audio timeline); here the bound is loose (1.5 s of line time,
well before the prompt would have ended) because the realtime line includes whatever delay a
loaded machine adds. benchmarks/barge_in.py measures the figure."""

from __future__ import annotations

import asyncio

import pytest

from bot.calls import CallRequest
from bot.dialog.events import Listen, Say
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.run import run_call

pytestmark = pytest.mark.asr
RATE = 8000


def request(script):
    return CallRequest(1, "+821000000000", {"name": "김민수"}, script,
                       variables={"agency": "서울시 방역본부", "callback_number": "120"})


def opening(speech, script) -> list[float]:
    """Seconds each prompt of the opening (before the bot first listens) plays uncut."""
    voice = speech.prompt_cache(script.locale)
    lengths = []
    for action in request(script).session().start(at=0.0):
        if isinstance(action, Listen):
            break
        if isinstance(action, Say):
            lengths.append(len(voice.render(action.text)) / 2 / RATE)
    return lengths


@pytest.mark.parametrize("during", ["greeting", "question"])
async def test_the_bot_stops_talking_when_the_caller_speaks_over_the_shipped_opening(
    speech, say_ko, ko_script, tmp_path, during
):
    greeting, question = opening(speech, ko_script)
    after = 2.0 if during == "greeting" else greeting + 1.5
    turns = [CallerTurn("speech", pcm=say_ko("네"), barge_in_after=after),
             CallerTurn("hangup", barge_in_after=0.5)]  # hangs up once the bot has replied
    transport = LineTransport(turns, realtime=True, max_seconds=60)
    record = await asyncio.wait_for(run_call(transport, request(ko_script), speech, audio_dir=tmp_path), 120)

    out, caller = transport.output(), transport.input()
    start, onset = out.first_audio_after[0], caller.speech_onsets[0]
    assert start < onset < start + (greeting + question) * RATE  # the caller spoke over the opening
    assert out.interruptions, "the bot never stopped its opening"
    cut = out.interruptions[0]
    assert onset <= cut <= onset + 1.5 * RATE, f"bot audio stopped {(cut - onset) / RATE:.2f} s after the onset"
    assert cut < start + (greeting + question - 3) * RATE  # well before the opening would have ended
    reply = next(s for s in out.first_audio_after if s > cut)
    assert reply >= caller.speech_ends[0]  # the bot's next audio is its reply to the answer ...
    assert not any(out.track[cut * 2 : reply * 2])  # ... and nothing it had queued leaked out before it
    assert record.slots["identity"] == "yes"  # the answer said over the prompt was taken
    assert record.outcome == "hung_up"
