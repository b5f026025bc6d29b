"""Actions as a table (issue 21 item 3): a new dialog action is one module and its spec
(tests/dialog/pause_action.py, registered here; nothing in bot/ names it), and a script using it
runs in every driver — the speech pipeline on an in-memory line, the keypad driver, `veribot
simulate`'s text driver and the console's simulator — each pausing where the script says."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.calls import CallRequest
from bot.dialog import actions
from bot.dialog.script import ScriptError, load_script_text
from tests.dialog import pause_action

RATE = 8000
SCRIPT = """
name: pause-demo
locale: en-US
start: hello
steps:
  hello:
    say: "Hello, this is the health office."
    next: hold
  hold:
    pause: 2
    next: question
  question:
    ask: yes_no
    slot: ok
    prompt: "Is this a good time?"
    reprompts: {no_input: ["Sorry?"], no_match: ["Press 1 for yes, 2 for no."]}
    dtmf: {"1": "yes", "2": "no"}
    next: bye
  bye:
    say: "Goodbye."
    end: completed
"""


@pytest.fixture
def pause():
    actions.register(pause_action.ACTION)
    yield pause_action
    actions.unregister("pause")


def test_without_the_module_pause_is_an_unknown_key():
    with pytest.raises(ScriptError, match="unknown key 'pause'"):
        load_script_text(SCRIPT)


def test_the_module_brings_its_schema_and_lint(pause):
    script = load_script_text(SCRIPT)
    assert script.steps["hold"].kind == "pause" and script.steps["hold"].param("seconds") == 2
    with pytest.raises(ScriptError, match=r"steps.hold.pause must be a number from 0.1 to 30"):
        load_script_text(SCRIPT.replace("pause: 2", "pause: 90"))
    with pytest.raises(ScriptError, match="only delays the hang-up"):
        load_script_text(SCRIPT.replace("next: question\n  question", "next: bye\n  question"))
    with pytest.raises(ScriptError, match="can be only one of ask/branch/end/pause"):
        load_script_text(SCRIPT.replace("pause: 2", "pause: 2\n    end: completed"))


def test_simulate_text_driver(pause):
    from bot.simulate import TextLine, run_text

    said: list[str] = []
    line = TextLine(lambda s: said.append(s.text), lambda seconds: said.append(f"<{seconds}>"))
    session = run_text(load_script_text(SCRIPT), {"name": "Li"}, ["yes"], line=line)
    assert said == ["Hello, this is the health office.", "<2>", "Is this a good time?", "Goodbye."]
    assert line.waited == [2] and session.record.outcome == "completed"


def test_console_simulator(pause):
    from bot.console.simulator import Simulator

    _, state = Simulator().start(1, load_script_text(SCRIPT), {"name": "Li"}, {})
    events = [(ln["who"], ln.get("event"), ln.get("seconds")) for ln in state["lines"]]
    assert events == [("bot", None, None), ("system", "pause", 2), ("bot", None, None), ("system", "listen", None)]


async def test_keypad_driver(pause, monkeypatch):
    from bot.telephony.calls import keypad_conversation as keypad

    async def voice(text, locale, recordings=None, store=True):
        return tone(0.5)

    monkeypatch.setattr(keypad, "speak_recorded", voice)
    media = _Media()
    call = type("Call", (), {"media": media, "ended": asyncio.Event()})()
    record = await asyncio.wait_for(keypad.keypad_conversation(call, CallRequest(1, "+1", {"name": "Li"},
                                                                                 load_script_text(SCRIPT))), 10)
    assert record.outcome == "completed" and record.slots == {"ok": "yes"}
    assert _gaps(bytes(media.track)) == [pytest.approx(2.0, abs=0.05)]  # 2 s of silence, between the prompts


async def test_speech_pipeline_on_the_line_clock(pause, tmp_path):
    from bot.pipeline.offline import CallerTurn, LineTransport
    from bot.pipeline.resources import SpeechResources, SpeechSettings
    from bot.pipeline.run import run_call
    from bot.worker import configure_worker_process

    configure_worker_process()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)
    resources = SpeechResources(settings, {}, EnergyOnlySession(), {"en-US": PromptCache(None, FakeSynthesizer(0.5))},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    resources.recognizers["en-US"] = lambda: FakeRecognizer([])
    played = []
    try:
        transport = LineTransport([CallerTurn("dtmf", keys="1")], chunk_samples=480)
        request = CallRequest(1, "+1", {"name": "Li"}, load_script_text(SCRIPT), observers=(played.append,))
        record = await asyncio.wait_for(run_call(transport, request, resources, audio_dir=tmp_path / "c"), 30)
    finally:
        resources.close()
    assert record.outcome == "completed" and record.slots == {"ok": "yes"}
    # the line carried three 0.5 s prompts and the 2 s pause (the in-memory line's track has the
    # harness's own chunk gaps: what it carried and the line clock are what count)
    assert transport.carried_seconds() == pytest.approx(3 * 0.5 + 2.0, abs=0.01)
    prompts = [p for p in played if type(p).__name__ == "PromptPlayed"]
    hello, question = prompts[0], prompts[1]
    assert question.text == "Is this a good time?"
    assert question.started_at - hello.ended_at == pytest.approx(2.0, abs=0.1)  # on the line clock


class _Media:
    """The keypad driver's view of RTP (bot.telephony.media.rtp_stream): what is played goes on
    a track at once; the caller presses 1 once the question has been played."""

    def __init__(self) -> None:
        self.track = bytearray()
        self.on_dtmf = None
        self.plays = 0

    def play(self, pcm: bytes) -> None:
        self.track += pcm
        self.plays += 1
        if self.plays == 3:  # hello, the pause, the question
            asyncio.get_running_loop().call_soon(self.on_dtmf, "1")

    def clear(self) -> None:
        pass

    async def drained(self) -> None:
        await asyncio.sleep(0)


def _gaps(pcm: bytes, window: float = 0.02) -> list[float]:
    """Lengths of the silences between sounds (20 ms windows at zero level)."""
    x = np.abs(np.frombuffer(pcm, dtype="<i2")).reshape(-1, int(RATE * window)) if len(pcm) % 320 == 0 else \
        np.abs(np.frombuffer(pcm[: len(pcm) // 320 * 320], dtype="<i2")).reshape(-1, int(RATE * window))
    loud = x.max(axis=1) > 100
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    gaps, run = [], 0
    for w in loud[first:last]:
        if w:
            if run:
                gaps.append(run * window)
            run = 0
        else:
            run += 1
    return [g for g in gaps if g > 0.1]


def test_every_driver_dispatches_outputs_through_one_table():
    """No driver names an output type in an isinstance chain: each builds its table from the
    actions (so a new action's output reaches it without an edit)."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    drivers = ["bot/pipeline/dialog_processor.py", "bot/telephony/calls/keypad_conversation.py", "bot/simulate.py",
               "bot/console/simulator.py"]
    chain = re.compile(r"isinstance\(\w+, \(?(Say|Listen|End|Escalate)\b")
    for path in drivers:
        text = (root / path).read_text(encoding="utf-8")
        assert "perform_table(" in text and not chain.search(text), path
    assert [a.name for a in actions.actions()][:4] == ["say", "ask", "branch", "end"]  # found in the package


def test_console_simulator_says_the_pause_in_the_readers_language(pause):
    """The editor's chat shows the pause line in Chinese, like its other system lines."""
    from bot.console.i18n import translations
    from bot.console.labels import Labeller
    from bot.console.simulator import Simulator
    from bot.console.views_dialogs import _line

    _, state = Simulator().start(1, load_script_text(SCRIPT), {"name": "Li"}, {})
    labels = Labeller(translations("zh-CN").gettext, "zh-CN")
    shown = [_line(labels, ln)["text"] for ln in state["lines"] if ln.get("event") == "pause"]
    assert shown == ["静默 2 秒"]
