"""The GIL switch interval is the entry point's setting (audio.runtime), not a side effect."""

import subprocess
import sys

from audio.runtime import SWITCH_INTERVAL, configure_process


def test_configure_process_shortens_the_gil_switch_interval(speech):
    configure_process()
    assert sys.getswitchinterval() <= SWITCH_INTERVAL < 0.005  # CPython's default is 5 ms


def test_importing_speech_code_leaves_the_interval_alone():
    code = ("import sys; import audio.scheduler, audio.recognizer, bot.pipeline.resources, bot.pipeline.call; "
            "print(sys.getswitchinterval())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert float(out.split()[-1]) == 0.005
